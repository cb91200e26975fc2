// Renaming a study on its card: Save (or Enter) keeps the new name, Cancel (or Escape) the old.
import { api, describe, type Study } from "../api/client";
import { h } from "../ui/dom";

export const MAX_NAME = 200; // the API's limit (StudyUpdate.name)

/** Why ``text`` cannot be a study's name, in words; null when it can. */
export function checkStudyName(text: string): string | null {
  const name = text.trim();
  if (!name) return "Type a name for the study.";
  if (name.length > MAX_NAME) {
    return `Keep the name to ${MAX_NAME} characters or fewer (this one has ${name.length}).`;
  }
  return null;
}

/** The form that replaces a study's name while it is renamed. */
export function renameForm(study: Study, saved: (s: Study) => void, close: () => void): HTMLElement {
  const input = h("input", { type: "text", value: study.name, maxlength: MAX_NAME, class: "rename-input",
    "aria-label": `New name for ${study.name || "Untitled study"}` });
  const error = h("p", { class: "form-error small", role: "alert" });
  const save = h("button", { type: "submit", class: "primary small-button" }, "Save");
  const cancel = h("button", { type: "button", class: "small-button" }, "Cancel");
  const form = h("form", { class: "rename", novalidate: true }, input, save, cancel, error);
  cancel.addEventListener("click", close);
  form.addEventListener("dblclick", (e) => e.stopPropagation()); // the card opens on a double-click
  input.addEventListener("keydown", (e) => { if (e.key === "Escape") close(); });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const problem = checkStudyName(input.value);
    error.textContent = problem ?? "";
    if (problem) return;
    save.disabled = true;
    void api.PATCH("/api/studies/{study_id}", {
      params: { path: { study_id: study.id } }, body: { name: input.value.trim() },
    }).then((r) => {
      if (!r.data || !r.response.ok) throw new Error(describe(r.response.status, r.error));
      saved(r.data);
    }).catch((err: unknown) => {
      error.textContent = err instanceof Error ? err.message : String(err);
      save.disabled = false;
    });
  });
  queueMicrotask(() => { input.focus(); input.select(); });
  return form;
}
