// wfsim's UI: live pages without a build step. Every second the page is fetched again and
// each element marked data-live is replaced by its new version, the values typed into its
// fields carried over, unless focus is inside it; polling stops once the page says it is
// done (an execution that ended). Without JavaScript the pages still work: each has a
// Refresh link, and every action is a plain form.
(function () {
  'use strict';
  if (!document.querySelector('[data-live]')) return;
  function carry(from, to) {
    for (const field of from.querySelectorAll('input[name], textarea[name], select[name]')) {
      if (field.type === 'hidden') continue;
      const twin = to.querySelector('[name="' + field.name + '"]');
      if (twin && [...(twin.options || [{ value: field.value }])].some(o => o.value === field.value)) {
        twin.value = field.value;
      }
    }
  }
  async function poll() {
    if (document.body.dataset.done === 'true') return;
    try {
      const res = await fetch(location.href, { credentials: 'same-origin', cache: 'no-store' });
      if (res.ok) {
        const fresh = new DOMParser().parseFromString(await res.text(), 'text/html');
        for (const el of document.querySelectorAll('[data-live]')) {
          const next = fresh.getElementById(el.id);
          if (!next || el.contains(document.activeElement) || next.innerHTML === el.innerHTML) continue;
          const adopted = document.importNode(next, true);
          carry(el, adopted);
          el.replaceWith(adopted);
        }
        document.body.dataset.done = fresh.body.dataset.done || 'false';
      }
    } catch (_) {
      // The server is restarting or gone: try again on the next round.
    }
    setTimeout(poll, 1000);
  }
  setTimeout(poll, 1000);
})();
