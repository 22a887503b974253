// Copy buttons beside read-only fields: <button data-copy="field-id" data-copied="Copied" hidden>. Without this script
// the button stays hidden and the field can still be selected and copied by hand.
(() => {
  'use strict';
  for (const button of document.querySelectorAll('button[data-copy]')) {
    const field = document.getElementById(button.dataset.copy);
    if (!field || !navigator.clipboard) continue;
    const label = button.textContent;
    button.hidden = false;
    button.addEventListener('click', async () => {
      try {
        await navigator.clipboard.writeText(field.value);
        button.textContent = button.dataset.copied || label;
      } catch {
        field.select();
      }
      setTimeout(() => { button.textContent = label; }, 2000);
    });
  }
})();
