// Chart colours from the page's CSS custom properties, so charts follow light and dark mode.

export interface ChartTheme {
  text: string;
  grid: string;
  line: string;
  band: string;
  import_bar: string;
  export_bar: string;
}

export function chart_theme(): ChartTheme {
  const css = getComputedStyle(document.documentElement);
  const v = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
  return {
    text: v("--fg-muted", "#555"),
    grid: v("--grid", "rgba(128,128,128,0.2)"),
    line: v("--accent", "#1f6feb"),
    band: v("--accent-band", "rgba(31,111,235,0.15)"),
    import_bar: v("--import", "#1f6feb"),
    export_bar: v("--export", "#2da44e"),
  };
}

export const dark_query = window.matchMedia("(prefers-color-scheme: dark)");
