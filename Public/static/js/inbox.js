// The inbox's live parts. Every inbox page works without this script (plain forms, POST-redirect-GET); with it:
// - the shop's conversation events (server-sent events) make the page read itself again: the parts marked
//   data-live are swapped, new messages are appended to the conversation, "typing…" shows while the shopper types;
// - waiting clocks tick every 30 s;
// - the operator's presence is reported every 30 s, and the shopper is told the operator is typing (every 3 s at most);
// - desktop notifications (opt-in) say when a conversation starts waiting while the page is hidden;
// - choosing a template inserts it; "/" at the start of the reply opens a filterable list of templates;
// - "Suggest a reply" fills the reply box with the model's draft without leaving the page.
// The POSTs carry the session's CSRF token in their _csrf field, as the forms do.
(() => {
  'use strict';
  const root = document.querySelector('[data-inbox]');
  if (!root) return;
  const d = root.dataset;
  const conversation = d.conversation ? Number(d.conversation) : null;
  let leaving = false;

  function post(url, fields) {
    const body = new URLSearchParams(Object.assign({ _csrf: d.csrf || '' }, fields));
    return fetch(url, { method: 'POST', body, credentials: 'same-origin', keepalive: true }).catch(() => null);
  }

  // Waiting clocks: measured against the server's clock at load, so a wrong clock on this computer does not matter.
  const loadedAt = Date.now();
  const serverNow = Number(d.now) || Math.floor(loadedAt / 1000);
  const target = Number(d.target) || 300;
  function waitText(seconds) {
    if (seconds < 60) return d.tWaitNew;
    if (seconds < 3600) return d.tWaitMinutes.replace('%n', String(Math.floor(seconds / 60)));
    return d.tWaitHours.replace('%h', String(Math.floor(seconds / 3600))).replace('%m', String(Math.floor((seconds % 3600) / 60)));
  }
  function tick() {
    const now = serverNow + (Date.now() - loadedAt) / 1000;
    for (const clock of document.querySelectorAll('[data-since]')) {
      const waited = Math.max(0, Math.floor(now - Number(clock.dataset.since)));
      const text = clock.querySelector('[data-wait-text]');
      if (text) text.textContent = waitText(waited);
      clock.classList.toggle('is-overdue', waited > target);
    }
  }
  setInterval(tick, 30000);

  // Reading the page again. At most one request at a time; events meanwhile make one more afterwards.
  const pageURL = d.page || location.href;
  let timer = null;
  let busy = false;
  let again = false;
  function refreshSoon(delay) {
    if (leaving) return;
    if (delay === 0) clearTimeout(timer);
    else if (timer) return;
    timer = setTimeout(() => { timer = null; refresh(); }, delay === undefined ? 400 : delay);
  }
  async function refresh() {
    if (leaving) return;
    if (busy) { again = true; return; }
    busy = true;
    try {
      const response = await fetch(pageURL, { credentials: 'same-origin', headers: { Accept: 'text/html' } });
      if (!response.ok || response.redirected || leaving) return;
      // Only the body is read. The head's <style> carries that response's CSP nonce, not this page's, and the parsed
      // document inherits this page's policy: parsing it would log a CSP violation on every refresh.
      const html = (await response.text()).replace(/<head[\s>][\s\S]*?<\/head>/i, '');
      const fresh = new DOMParser().parseFromString(html, 'text/html');
      for (const part of fresh.querySelectorAll('[data-live]')) {
        const current = document.querySelector('[data-live="' + part.dataset.live + '"]');
        if (!current) continue;
        // Never pull a form from under the operator's cursor: that part is read again a little later.
        if (current.contains(document.activeElement) && document.activeElement !== document.body) { again = true; continue; }
        current.replaceWith(document.adoptNode(part));
      }
      appendMessages(fresh);
      tick();
    } catch {
      // Offline for a moment: the next event or the reconnection reads again.
    } finally {
      busy = false;
      if (again) { again = false; setTimeout(() => refreshSoon(), 3000); }
    }
  }

  function lastMessage() {
    const items = document.querySelectorAll('[data-log] > [data-message]');
    return items.length ? Number(items[items.length - 1].dataset.message) : 0;
  }
  function appendMessages(fresh) {
    const log = document.querySelector('[data-log]');
    if (!log) return;
    const last = lastMessage();
    let added = false;
    for (const item of fresh.querySelectorAll('[data-log] > [data-message]')) {
      if (Number(item.dataset.message) <= last) continue;
      log.append(document.adoptNode(item));
      added = true;
    }
    if (!added) return;
    hideTyping();
    const empty = document.querySelector('.inbox-log-empty');
    if (empty) empty.remove();
  }

  // "Anna is typing…" for a few seconds after each notice.
  const typingNotice = document.querySelector('[data-typing-notice]');
  let typingTimer = null;
  function showTyping(name) {
    if (!typingNotice) return;
    typingNotice.textContent = (d.tTyping || '').replace('%s', name || d.contact || '');
    typingNotice.classList.add('is-on');
    clearTimeout(typingTimer);
    typingTimer = setTimeout(hideTyping, 6000);
  }
  function hideTyping() {
    if (!typingNotice) return;
    typingNotice.classList.remove('is-on');
    typingNotice.textContent = '';
  }

  // Desktop notifications, when the operator asks for them.
  const notifyButton = document.querySelector('[data-notify]');
  if (notifyButton && 'Notification' in window && Notification.permission === 'default') {
    notifyButton.hidden = false;
    notifyButton.addEventListener('click', () => {
      Notification.requestPermission().then(() => { notifyButton.hidden = true; });
    });
  }
  function notify(change) {
    if (!('Notification' in window) || Notification.permission !== 'granted' || !document.hidden) return;
    const note = new Notification(d.tNotifyTitle, { body: change.name || d.tNotifyBody, tag: 'inbox-' + change.conversation });
    note.onclick = () => { window.focus(); location.href = change.url; note.close(); };
  }

  // The stream of the shop's events.
  let source = null;
  let retry = 2000;
  let opened = false;
  function parse(event) {
    try { return JSON.parse(event.data); } catch { return null; }
  }
  function connect() {
    if (leaving || !window.EventSource || source) return;
    source = new EventSource(d.events);
    source.addEventListener('ready', () => {
      // After a reconnection: what happened meanwhile was not heard.
      if (opened) refreshSoon(0);
      opened = true;
      retry = 2000;
    });
    source.addEventListener('message', (event) => {
      const change = parse(event);
      if (change && (conversation === null || change.conversation === conversation)) refreshSoon();
    });
    source.addEventListener('state', (event) => {
      const change = parse(event);
      if (!change) return;
      if (change.state === 'waiting') notify(change);
      // Another conversation's move changes the waiting count in the navigation.
      refreshSoon(conversation === null || change.conversation === conversation ? 400 : 1500);
    });
    source.addEventListener('typing', (event) => {
      const change = parse(event);
      if (change && change.conversation === conversation) showTyping(change.name);
    });
    source.addEventListener('resync', () => refreshSoon(0));
    source.onerror = () => {
      if (!source || source.readyState !== EventSource.CLOSED) return;
      source = null;
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 60000);
    };
  }
  function stop() {
    leaving = true;
    if (source) { source.close(); source = null; }
  }
  document.addEventListener('submit', stop);
  window.addEventListener('pagehide', stop);
  window.addEventListener('pageshow', (event) => {
    if (!event.persisted) return;
    leaving = false;
    connect();
    refreshSoon(0);
  });
  connect();

  // Presence: online (or away, as the toggle says) while an inbox page is open.
  if (d.presence) {
    const report = () => { if (!leaving) post(d.presence, { status: d.presenceStatus || 'online', js: '1' }); };
    report();
    setInterval(report, 30000);
  }

  // The reply box: typing notices, Ctrl+Enter, templates.
  const composer = document.querySelector('[data-composer]');
  if (!composer) return;
  if (d.typing) {
    let sent = 0;
    composer.addEventListener('input', () => {
      const text = composer.value.trim();
      if (!text || text.startsWith('/') || Date.now() - sent < 3000) return;
      sent = Date.now();
      post(d.typing, {});
    });
  }

  const select = document.querySelector('[data-templates]');
  const picker = document.querySelector('[data-picker]');
  const insertButton = document.querySelector('[data-insert]');
  const templates = select
    ? Array.from(select.options).filter((option) => option.value).map((option) => ({ name: option.value, text: option.dataset.text || '' }))
    : [];

  function insert(text) {
    const focused = document.activeElement === composer;
    const value = composer.value;
    const start = focused ? composer.selectionStart : value.length;
    const end = focused ? composer.selectionEnd : value.length;
    const before = value.slice(0, start);
    const glue = before && !before.endsWith('\n') ? '\n' : '';
    composer.value = before + glue + text + value.slice(end);
    const caret = (before + glue + text).length;
    composer.focus();
    composer.setSelectionRange(caret, caret);
  }
  if (select) {
    if (insertButton) insertButton.hidden = true;
    select.addEventListener('change', () => {
      const chosen = templates.find((template) => template.name === select.value);
      select.value = '';
      if (chosen) insert(chosen.text);
    });
  }

  // "Suggest a reply": the shop's model drafts an answer into the reply box for the operator to edit (nothing is sent).
  const suggest = document.querySelector('[data-suggest]');
  const suggestStatus = document.querySelector('[data-suggest-status]');
  if (suggest) {
    suggest.addEventListener('click', async (event) => {
      event.preventDefault();
      if (suggest.getAttribute('aria-busy') === 'true') return;
      suggest.setAttribute('aria-busy', 'true');
      if (suggestStatus) suggestStatus.textContent = d.tSuggesting || '';
      let answer = null;
      try {
        const body = new URLSearchParams({ _csrf: d.csrf || '' });
        const response = await fetch(suggest.formAction, {
          method: 'POST', body, credentials: 'same-origin', headers: { Accept: 'application/json' },
        });
        answer = await response.json().catch(() => null);
      } catch (error) {
        answer = null;
      }
      suggest.removeAttribute('aria-busy');
      if (answer && answer.text) {
        composer.value = answer.text;
        composer.focus();
        composer.setSelectionRange(answer.text.length, answer.text.length);
        if (suggestStatus) suggestStatus.textContent = answer.based || '';
      } else if (suggestStatus) {
        suggestStatus.textContent = (answer && answer.error) || d.tSuggestFailed || '';
      }
    });
  }

  let matches = [];
  let active = -1;
  function query() {
    const value = composer.value;
    if (!value.startsWith('/') || value.includes('\n')) return null;
    return value.slice(1).trim().toLowerCase();
  }
  function closePicker() {
    if (!picker) return;
    picker.hidden = true;
    active = -1;
    composer.setAttribute('aria-expanded', 'false');
    composer.removeAttribute('aria-activedescendant');
  }
  function highlight() {
    picker.querySelectorAll('[role="option"]').forEach((item, index) => {
      item.setAttribute('aria-selected', index === active ? 'true' : 'false');
      if (index === active) item.scrollIntoView({ block: 'nearest' });
    });
    if (active >= 0) composer.setAttribute('aria-activedescendant', 'template-option-' + active);
    else composer.removeAttribute('aria-activedescendant');
  }
  function openPicker() {
    const typed = query();
    if (!picker || typed === null || !templates.length) { closePicker(); return; }
    matches = templates.filter((template) =>
      template.name.toLowerCase().includes(typed) || template.text.toLowerCase().includes(typed)).slice(0, 8);
    picker.replaceChildren();
    if (!matches.length) {
      const empty = document.createElement('li');
      empty.className = 'template-picker-empty';
      empty.textContent = d.tPickerEmpty || '';
      picker.append(empty);
    }
    matches.forEach((template, index) => {
      const item = document.createElement('li');
      item.id = 'template-option-' + index;
      item.setAttribute('role', 'option');
      const name = document.createElement('strong');
      name.textContent = '/' + template.name;
      const text = document.createElement('span');
      text.textContent = template.text;
      item.append(name, text);
      item.addEventListener('mousedown', (event) => { event.preventDefault(); choose(index); });
      picker.append(item);
    });
    active = matches.length ? Math.min(Math.max(active, 0), matches.length - 1) : -1;
    picker.hidden = false;
    composer.setAttribute('aria-expanded', 'true');
    highlight();
  }
  function choose(index) {
    const template = matches[index];
    if (!template) return;
    composer.value = template.text;
    closePicker();
    composer.focus();
    composer.setSelectionRange(template.text.length, template.text.length);
  }
  composer.addEventListener('input', openPicker);
  composer.addEventListener('blur', () => setTimeout(closePicker, 150));
  composer.addEventListener('keydown', (event) => {
    if (picker && !picker.hidden) {
      if (event.key === 'ArrowDown' && matches.length) { active = (active + 1) % matches.length; highlight(); event.preventDefault(); return; }
      if (event.key === 'ArrowUp' && matches.length) { active = (active - 1 + matches.length) % matches.length; highlight(); event.preventDefault(); return; }
      if ((event.key === 'Enter' || event.key === 'Tab') && active >= 0) { event.preventDefault(); choose(active); return; }
      if (event.key === 'Escape') { event.preventDefault(); closePicker(); return; }
    }
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      composer.form.requestSubmit();
    }
  });
})();
