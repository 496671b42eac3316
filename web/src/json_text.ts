// JSON whose numbers must keep their exact decimal text: issued bills are embedded as the server stored them
// ("total": 1270.40, "kwh": 155.000), and a JS number would drop the trailing zeros and, for money, invite
// arithmetic in binary floating point. Every number token outside a string is quoted before parsing, so the
// parsed value holds "1270.40" as a string.

const kNumber = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

export function quote_numbers(json: string): string {
  let out = "";
  let start = 0;  // start of the part not yet copied
  let in_string = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (in_string) {
      if (c === "\\") i++;
      else if (c === '"') in_string = false;
      continue;
    }
    if (c === '"') {
      in_string = true;
    } else if (c === "-" || (c >= "0" && c <= "9")) {
      kNumber.lastIndex = i;
      const m = kNumber.exec(json);
      if (!m) continue;  // not a number: JSON.parse reports it
      out += `${json.slice(start, i)}"${m[0]}"`;
      i += m[0].length - 1;
      start = i + 1;
    }
  }
  return out + json.slice(start);
}

// JSON.parse with every number as its text.
export function parse_keeping_numbers(json: string): unknown {
  return JSON.parse(quote_numbers(json));
}
