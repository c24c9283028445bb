// Progressive enhancement only: every page works without this file.

// Live filter for tables: <input data-filter-table="table-id">, optional status line
// <p data-filter-status="table-id">. Rows whose text contains every typed word stay visible.
document.querySelectorAll("[data-filter-table]").forEach((input) => {
  const table = document.getElementById(input.dataset.filterTable);
  const status = document.querySelector(`[data-filter-status="${input.dataset.filterTable}"]`);
  if (!table) return;
  const rows = Array.from(table.tBodies[0].rows);
  input.addEventListener("input", () => {
    const words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    rows.forEach((row) => {
      const text = row.textContent.toLowerCase();
      const match = words.every((word) => text.includes(word));
      // Keep the chosen row visible so a selection never disappears from view.
      const chosen = row.querySelector("input:checked");
      row.hidden = !(match || chosen);
      if (!row.hidden) shown += 1;
    });
    if (status) status.textContent = words.length ? `${shown} of ${rows.length} shown` : "";
  });
});

// Forms inside a [data-swap-errors] region answer a mistake with 400 and the page with the
// message beside the field: swap that in too (htmx leaves 4xx answers out by default).
document.body.addEventListener("htmx:beforeSwap", (event) => {
  const { xhr, elt } = event.detail;
  if (xhr.status === 400 && elt.closest("[data-swap-errors]")) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});

// Unsaved drafts autosave.js keeps on this device, under "dl-portal-draft:<user id>:<form>".
window.portalDrafts = {
  prefix: "dl-portal-draft:",
  keys() {
    try {
      return Array.from({ length: localStorage.length }, (_, i) => localStorage.key(i)).filter(
        (key) => key && key.startsWith(this.prefix),
      );
    } catch {
      return []; // storage is switched off: nothing is kept
    }
  },
  clear() {
    this.keys().forEach((key) => localStorage.removeItem(key));
  },
};

// Signing out of a shared classroom tablet forgets every draft kept on it, so the next person can
// neither read nor restore them. The sign-out answer's Clear-Site-Data header does the same in
// browsers that support it; this covers the rest.
document.querySelectorAll("form[data-clear-drafts]").forEach((form) => {
  form.addEventListener("submit", () => window.portalDrafts.clear());
});
