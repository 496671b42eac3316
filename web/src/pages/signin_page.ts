// Sign-in form. A refusal is always the same generic message (no hint whether the name exists); the
// server delays repeated failures, so the button stays disabled while it waits.

import { ApiError, sign_in, type SessionUser } from "../api";
import { h, set_text } from "../dom";

export function mount_signin_page(root: HTMLElement, on_signed_in: (user: SessionUser) => void, reason = ""): () => void {
  const name = h("input", { id: "signin-name", name: "username", autocomplete: "username", required: true, autofocus: true });
  const password = h("input", { id: "signin-password", name: "password", type: "password", autocomplete: "current-password", required: true });
  const submit = h("button", { type: "submit", class: "primary" }, "Sign in");
  const message = h("p", { class: "form-message", role: "alert" }, reason);
  const form = h("form", { class: "signin card", "aria-labelledby": "signin-title" },
    h("h1", { id: "signin-title" }, "Sign in to wattguard"),
    h("label", { for: "signin-name" }, "User name"), name,
    h("label", { for: "signin-password" }, "Password"), password,
    submit, message);
  let closed = false;
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    submit.disabled = true;
    set_text(submit, "Signing in…");
    set_text(message, "");
    try {
      const user = await sign_in(name.value.trim(), password.value);
      if (!closed) on_signed_in(user);
    } catch (err) {
      if (closed) return;
      password.value = "";
      password.focus();
      message.dataset.kind = "error";
      if (err instanceof ApiError && (err.status === 401 || err.status === 400 || err.status === 403)) {
        set_text(message, "Wrong user name or password.");
      } else if (err instanceof ApiError && err.status === 429) {
        set_text(message, "Too many attempts. Wait a moment and try again.");
      } else {
        set_text(message, `Could not sign in: ${err instanceof Error ? err.message : String(err)}`);
      }
    } finally {
      if (!closed) {
        submit.disabled = false;
        set_text(submit, "Sign in");
      }
    }
  });
  root.replaceChildren(h("section", { class: "page signin-page" }, form));
  name.focus();
  return () => { closed = true; };
}
