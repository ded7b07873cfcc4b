// Progressive enhancement: each read-only link field can be selected and copied without this
// file; the "Copy link" button is shown only where the browser lets a page write to the clipboard.
function enhance(control) {
  const field = document.getElementById(control.dataset.copyLink);
  const button = control.querySelector("button");
  const status = control.querySelector("[data-copy-status]");
  if (!field || !button || !status) return;
  button.addEventListener("click", async () => {
    // Emptied first so that copying twice is announced twice.
    status.textContent = "";
    try {
      await navigator.clipboard.writeText(field.value);
      status.textContent = "Link copied";
    } catch {
      field.focus();
      field.select();
      status.textContent = "Could not copy the link: it is selected, copy it with your keyboard";
    }
  });
  control.hidden = false;
}

if (navigator.clipboard && typeof navigator.clipboard.writeText === "function") {
  document.querySelectorAll("[data-copy-link]").forEach(enhance);
}
