// Autosave for long forms filled in a classroom (observation notes, feedback drafts).
// htmx posts the form a moment after typing stops (see hx-trigger on the form). When the network
// drops, the typed values are kept in this browser's localStorage and put back on the next visit,
// so nothing typed is lost; the next successful save clears the copy.
//
// Tablets are shared: a copy is kept per signed-in person (the id on the sign-out form, see
// base.html) and only ever put back for them, a copy older than a week is dropped rather than put
// back, and signing out forgets them all (portal.js).
(() => {
  const MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000;
  const form = document.querySelector("form[data-autosave-key]");
  const owner = document.querySelector("form[data-clear-drafts]")?.dataset.userId;
  const drafts = window.portalDrafts;
  if (!form || !owner || !drafts) return;
  const key = `${drafts.prefix}${owner}:${form.dataset.autosaveKey}`;
  const status = document.getElementById("autosave-status");

  const keepLocally = () => {
    const values = {};
    new FormData(form).forEach((value, name) => {
      if (name !== "csrfmiddlewaretoken") values[name] = value;
    });
    localStorage.setItem(key, JSON.stringify({ savedAt: Date.now(), values }));
  };

  const read = (storedKey) => {
    try {
      return JSON.parse(localStorage.getItem(storedKey));
    } catch {
      return null;
    }
  };

  const restore = () => {
    // Anyone's copy past its age (or unreadable) goes, so drafts do not pile up on a device.
    drafts.keys().forEach((storedKey) => {
      const draft = read(storedKey);
      if (!(draft?.savedAt > Date.now() - MAX_AGE_MS)) localStorage.removeItem(storedKey);
    });
    const draft = read(key);
    if (!draft?.values) return;
    Object.entries(draft.values).forEach(([name, value]) => {
      form.querySelectorAll(`[name="${CSS.escape(name)}"]`).forEach((field) => {
        if (field.type === "radio" || field.type === "checkbox") field.checked = field.value === value;
        else field.value = value;
      });
    });
    if (status) status.innerHTML = '<span class="text-warning-emphasis">Unsaved notes from this device were put back. They will save now.</span>';
    htmx.trigger(form, "change");
  };

  form.addEventListener("input", keepLocally);
  form.addEventListener("change", keepLocally);
  form.addEventListener("htmx:afterRequest", (event) => {
    if (event.detail.successful) localStorage.removeItem(key);
  });
  form.addEventListener("htmx:sendError", () => {
    if (status) status.innerHTML = '<span class="text-danger">Offline: your notes are kept on this device and will save when the connection returns.</span>';
  });
  // A normal submit sends everything to the server; the local copy is no longer needed.
  form.addEventListener("submit", () => localStorage.removeItem(key));
  restore();
})();
