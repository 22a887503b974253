/* Chat window: runs in the iframe on the widget's host. Talks to the loader by postMessage and to the widget API
   by fetch (the visitor token in a header only). Every visible string comes from cfg.texts. */
(() => {
  'use strict';
  const cfg = JSON.parse(document.getElementById('sc-config').textContent);
  const T = cfg.texts, BOT = cfg.bot, SLUG = BOT.slug, API = cfg.api, PRE = cfg.prechat || {};
  const MAX = cfg.max_length || 2000;
  const PARENT = (() => { try { return cfg.parent_origin && new URL(cfg.parent_origin).origin; } catch (e) { return null; } })();
  const EMBED = window.parent !== window && !!PARENT;
  const clock = new Intl.DateTimeFormat(cfg.lang, { hour: '2-digit', minute: '2-digit' });

  /* ---------- small helpers ---------- */
  const NS = 'http://www.w3.org/2000/svg';
  const ICONS = {
    close: 'M18 6 6 18M6 6l12 12',
    send: 'M12 19V5M5 12l7-7 7 7',
    on: 'M11 5 6 9H2v6h4l5 4zM15.5 8.5a5 5 0 0 1 0 7M19 5a10 10 0 0 1 0 14',
    off: 'M11 5 6 9H2v6h4l5 4zM22 9l-6 6M16 9l6 6',
    star: 'M12 2.5l2.9 6 6.6.9-4.8 4.6 1.2 6.5L12 17.4l-5.9 3.1 1.2-6.5-4.8-4.6 6.6-.9z',
    ext: 'M15 3h6v6M10 14 21 3M18 13v6a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2V8a2 2 0 0 1 2-2h6',
  };
  const icon = (name) => {
    const s = document.createElementNS(NS, 'svg'), p = document.createElementNS(NS, 'path');
    s.setAttribute('viewBox', '0 0 24 24');
    s.setAttribute('aria-hidden', 'true');
    s.setAttribute('class', 'sc-i');
    p.setAttribute('d', ICONS[name]);
    s.appendChild(p);
    return s;
  };
  // h('div', {class, text, onclick, attr…}, ...children): children may be nodes, strings, arrays or null.
  const h = (tag, attrs, ...kids) => {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v == null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : v);
    }
    for (const c of kids.flat(2)) if (c != null && c !== false) el.append(c);
    return el;
  };
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const uuid = () => {
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64;
    b[8] = (b[8] & 63) | 128;
    const x = Array.from(b, (v) => v.toString(16).padStart(2, '0')).join('');
    return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
  };
  const store = {
    get(k) { try { return JSON.parse(localStorage.getItem(k)); } catch (e) { return null; } },
    set(k, v) { try { v == null ? localStorage.removeItem(k) : localStorage.setItem(k, JSON.stringify(v)); } catch (e) { /* private mode */ } },
  };
  // Links open in a new tab; relative ones resolve against this page's origin (the shop's host); http(s) only.
  const safeURL = (u) => { try { const x = new URL(u, location.href); return /^https?:$/.test(x.protocol) ? x.href : null; } catch (e) { return null; } };
  const tell = (m) => { if (EMBED) window.parent.postMessage(Object.assign({ sc: 1 }, m), PARENT); };

  /* ---------- the API ---------- */
  let V = store.get('sc.v') || {}; // {token, sub, j: tail of the last exchanged identity, c: contact given}
  const save = (v) => { V = v || {}; store.set('sc.v', v); };
  class Problem extends Error {
    constructor(status, body) {
      super((body && body.detail) || T.error);
      this.status = status;
      this.errors = (body && body.errors) || {};
    }
  }
  let tokenWait = null;
  const token = () => V.token ? Promise.resolve(V.token) : (tokenWait = tokenWait ||
    call('POST', '/visitors', { bot: SLUG }, false)
      .then((d) => { save(Object.assign({}, V, { token: d.token, sub: null })); return d.token; })
      .finally(() => { tokenWait = null; }));
  // auth: send the token; again: on 401 drop an unknown token, get a new one and retry once.
  async function call(method, path, body, auth = true, again = true) {
    const headers = { Accept: 'application/json' };
    if (body) headers['Content-Type'] = 'application/json';
    if (auth) headers.Authorization = 'Bearer ' + await token();
    let r;
    try {
      r = await fetch(API + path, { method, headers, body: body && JSON.stringify(body), cache: 'no-store', credentials: 'omit' });
    } catch (e) {
      throw new Problem(0);
    }
    if (r.status === 401 && auth && again) {
      save({});
      return call(method, path, body, auth, false);
    }
    const data = r.status === 204 ? null : await r.json().catch(() => null);
    if (!r.ok) throw new Problem(r.status, data);
    return data;
  }

  /* ---------- the page ---------- */
  let conv = null, lastId = 0, loaded = false, loadError = null;
  let isOpen = !EMBED, unread = 0, readSent = 0, readTimer = 0, down = false, downTimer = 0;
  let mode = '', offlineAsked = false, offlineSent = false, csatSent = false;
  let sound = store.get('sc.s') === 1, audio = null;
  const seen = new Set(), pending = new Map();

  const brand = cfg.brand || {};
  const avatar = h('div', { class: 'sc-av', 'aria-hidden': 'true' });
  if (BOT.avatar_url) avatar.append(h('img', { src: BOT.avatar_url, alt: '' }));
  else avatar.textContent = Array.from(brand.name || BOT.name || '?')[0].toUpperCase();
  const soundBtn = h('button', { type: 'button', class: 'sc-ib', onclick: () => toggleSound() });
  const closeBtn = EMBED && h('button', { type: 'button', class: 'sc-ib', 'aria-label': T.close, title: T.close, onclick: () => close() }, icon('close'));
  const head = h('header', { class: 'sc-head' }, avatar,
    h('div', { class: 'sc-ht' }, h('h1', { class: 'sc-name', text: BOT.name }), h('p', { class: 'sc-sub', text: brand.name || T.title })),
    soundBtn, closeBtn);
  const banner = h('div', { class: 'sc-banner', role: 'status', hidden: true });
  const log = h('div', { class: 'sc-log', role: 'log', 'aria-live': 'polite', 'aria-label': T.title });
  const typingText = h('span');
  const typingEl = h('div', { class: 'sc-typing', hidden: true },
    h('span', { class: 'sc-dots', 'aria-hidden': 'true' }, h('i'), h('i'), h('i')), typingText);
  const jump = h('button', { type: 'button', class: 'sc-jump', hidden: true, onclick: () => toEnd() }, T.new_messages);
  const scroller = h('main', { class: 'sc-scroll' }, log, typingEl, jump);
  const foot = h('div', { class: 'sc-foot' });
  const powered = brand.powered_by && safeURL(brand.powered_by.url) &&
    h('p', { class: 'sc-pw' }, h('a', { href: safeURL(brand.powered_by.url), target: '_blank', rel: 'noopener', text: brand.powered_by.label }));

  // The composer: Enter sends, Shift+Enter breaks the line, the field grows up to a limit.
  const ta = h('textarea', { class: 'sc-ta', rows: 1, maxlength: MAX, placeholder: T.placeholder, 'aria-label': T.message, autocomplete: 'off' });
  const composer = h('form', { class: 'sc-compose', onsubmit: (e) => { e.preventDefault(); submit(); } },
    ta, h('button', { type: 'submit', class: 'sc-send', 'aria-label': T.send, title: T.send }, icon('send')));
  const grow = () => { ta.style.height = 'auto'; ta.style.height = Math.min(ta.scrollHeight + 2, 140) + 'px'; };
  let typingSent = 0;
  ta.addEventListener('input', () => {
    grow();
    if (conv && ta.value.trim() && Date.now() - typingSent > 3000) {
      typingSent = Date.now();
      call('POST', '/typing', { conversation: conv.id }).catch(() => {});
    }
  });
  ta.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); submit(); }
  });
  const submit = () => { if (send(ta.value)) { ta.value = ''; grow(); } };

  document.body.append(head, banner, scroller, foot);
  paintSound();

  /* ---------- messages ---------- */
  const nearEnd = () => scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
  // Stay pinned to the newest message when the footer, banner or window changes the log's height. A scroll event
  // that finds the log where toEnd() put it is ours, not the shopper scrolling away: the banner may have grown
  // since (a message and a state change arrive together), and that must not unpin the log.
  let atEnd = true, pinnedAt = -1;
  const toEnd = () => { scroller.scrollTop = scroller.scrollHeight; pinnedAt = scroller.scrollTop; atEnd = true; jump.hidden = true; };
  scroller.addEventListener('scroll', () => {
    if (scroller.scrollTop === pinnedAt) return;
    atEnd = nearEnd();
    if (atEnd) jump.hidden = true;
  }, { passive: true });
  if (window.ResizeObserver) new ResizeObserver(() => { if (atEnd) toEnd(); }).observe(scroller);
  const keyOf = (m) => m.author + '|' + (m.author_name || '');
  let lastKey = '';

  function render(m) {
    const a = m.author, me = a === 'shopper', sys = a === 'system';
    const key = keyOf(m), first = key !== lastKey;
    lastKey = key;
    const el = h('div', { class: `sc-msg sc-${me ? 'me' : sys ? 'sys' : a === 'operator' ? 'op' : 'bot'}${first ? ' sc-first' : ''}` });
    if (!sys) {
      const time = m.created_at && h('time', { datetime: m.created_at, text: clock.format(new Date(m.created_at)) });
      const who = a === 'bot' ? [h('span', { class: 'sc-tag', text: T.bot }), h('b', { text: m.author_name || BOT.name })]
        : me ? [h('b', { text: T.you })] : [h('b', { text: m.author_name || '' })];
      // Grouped messages keep their author for screen readers only.
      el.append(h('div', { class: first ? 'sc-who' : 'sc-who sc-sr' }, who, time));
    }
    el.append(h('div', { class: 'sc-bubble', text: m.text || '' }));
    const parts = Array.isArray(m.parts) ? m.parts : [];
    const links = parts.filter((p) => p.type === 'link' && safeURL(p.url));
    const buttons = parts.filter((p) => p.type === 'button' && p.title);
    if (links.length) {
      el.append(h('div', { class: 'sc-links' }, links.map((p) =>
        h('a', { class: 'sc-link', href: safeURL(p.url), target: '_blank', rel: 'noopener' }, h('span', { text: p.title || p.url }), icon('ext')))));
    }
    if (buttons.length) {
      el.append(h('div', { class: 'sc-qr' }, buttons.map((p) =>
        h('button', { type: 'button', class: 'sc-chip', onclick: () => send(p.title) }, p.title))));
    }
    return el;
  }

  function append(el) {
    const stick = atEnd || nearEnd();
    // Quick replies belong to the latest message only.
    for (const q of log.querySelectorAll('.sc-qr')) q.remove();
    log.append(el);
    return stick;
  }

  // Adds a message from the server once (by id; own ones by client_id replace their pending copy).
  function add(m, live) {
    if (!m || seen.has(m.id)) return;
    if (m.id != null) { seen.add(m.id); lastId = Math.max(lastId, m.id); }
    const mine = m.client_id && pending.get(m.client_id);
    if (mine) {
      pending.delete(m.client_id);
      mine.classList.remove('sc-pending', 'sc-failed');
      const err = mine.querySelector('.sc-err');
      if (err) err.remove();
      return;
    }
    const el = render(m);
    if (live) el.classList.add('sc-new');
    const stick = append(el);
    if (live && m.author !== 'shopper') {
      typingEl.hidden = true;
      lastFrom = Date.now();
      dropDraft();
      incoming();
    }
    if (!live || stick || m.author === 'shopper') toEnd();
    else jump.hidden = false;
  }

  // Shows the shopper's message at once and posts it; returns false for blank text.
  function send(text) {
    text = String(text || '').trim();
    if (!text) return false;
    const cid = uuid();
    const el = render({ author: 'shopper', text, created_at: new Date().toISOString() });
    el.classList.add('sc-pending', 'sc-new');
    pending.set(cid, el);
    append(el);
    toEnd();
    post(cid, text, el);
    return true;
  }

  async function post(cid, text, el) {
    el.classList.add('sc-pending');
    el.classList.remove('sc-failed');
    const old = el.querySelector('.sc-err');
    if (old) old.remove();
    try {
      const d = await call('POST', '/messages', { bot: SLUG, text, client_id: cid });
      add(d.message, false);
      if (d.conversation) setConv(d.conversation);
    } catch (e) {
      if (!pending.has(cid)) return;
      el.classList.replace('sc-pending', 'sc-failed');
      // Retry sends the same client_id: the server deduplicates.
      el.append(h('div', { class: 'sc-err', role: 'alert' }, h('span', { text: e.message }),
        h('button', { type: 'button', class: 'sc-retry', onclick: () => post(cid, text, el) }, T.retry)));
      if (nearEnd()) toEnd();
    }
  }

  function greet() {
    if (BOT.greeting) append(render({ author: 'bot', author_name: BOT.name, text: BOT.greeting }));
  }

  function reset() {
    stopStream();
    log.replaceChildren();
    seen.clear();
    pending.clear();
    conv = null;
    lastId = readSent = unread = 0;
    lastKey = mode = '';
    csatSent = offlineAsked = false;
    typingEl.hidden = jump.hidden = true;
    greet();
  }

  async function load() {
    reset();
    loadError = null;
    try {
      const d = await call('GET', '/conversation?bot=' + encodeURIComponent(SLUG));
      (d.messages || []).forEach((m) => add(m, false));
      const r = store.get('sc.r');
      if (d.conversation && r && r.c === d.conversation.id) {
        readSent = r.m;
        // Answers that came while the shopper was on another page still count as unread.
        unread = (d.messages || []).filter((m) => m.id > r.m && m.author !== 'shopper').length;
      }
      setConv(d.conversation);
    } catch (e) {
      loadError = e;
    }
    loaded = true;
    paint();
    toEnd();
    if (unread) tell({ type: 'unread', count: unread });
    seenAll();
  }

  /* ---------- conversation state, banners and the footer ---------- */
  function setConv(c) {
    const prev = conv;
    conv = c || null;
    if (!conv) stopStream();
    else if (!prev || prev.id !== conv.id || !streamCtl) startStream();
    if (prev && conv && prev.state !== conv.state && conv.state !== 'resolved') csatSent = false;
    if (loaded) paint();
  }

  const minutes = (n) => {
    try { return new Intl.NumberFormat(cfg.lang, { style: 'unit', unit: 'minute', unitDisplay: 'long' }).format(n); } catch (e) { return String(n); }
  };

  function paintBanner() {
    const s = conv && conv.state;
    let kids = null, cls = 'sc-banner';
    if (down) { kids = [T.offline]; cls += ' sc-warn'; }
    else if (loadError) {
      kids = [h('span', { text: loadError.message }), h('button', { type: 'button', class: 'sc-link-btn', onclick: load }, T.retry)];
      cls += ' sc-warn';
    } else if (s === 'waiting') {
      const eta = conv.expected_wait_minutes;
      kids = [h('span', { text: T.waiting + (eta ? ' ~ ' + minutes(eta) : '') })];
      if (!cfg.operators_online && !offlineAsked) {
        kids.push(h('span', { class: 'sc-away', text: cfg.away_message || '' }),
          h('button', { type: 'button', class: 'sc-link-btn', onclick: () => { offlineAsked = true; paint(); focusMain(); } }, T.leave_message));
      }
    } else if (s === 'assigned') {
      kids = [T.assigned.replace('%s', (conv.operator && conv.operator.name) || '')];
      cls += ' sc-ok';
    } else if (s === 'resolved') kids = [T.resolved];
    banner.className = cls;
    banner.hidden = !kids;
    banner.replaceChildren(...(kids || []));
  }

  const needPrechat = () => !conv && !V.sub && !V.c && ['name', 'email', 'phone'].some((f) => PRE[f] && PRE[f] !== 'off');

  function paint() {
    paintBanner();
    if (!loaded) return;
    const s = conv && conv.state;
    const m = s === 'resolved' ? (conv.csat || csatSent ? 'thanks' : 'csat')
      : offlineAsked && s === 'waiting' ? (offlineSent ? 'sent' : 'offline')
        : needPrechat() ? 'prechat' : 'chat';
    if (m === mode) return;
    const hadFocus = foot.contains(document.activeElement);
    mode = m;
    const kids = m === 'chat' ? [composer] : m === 'prechat' ? [prechatForm()] : m === 'offline' ? [offlineForm()]
      : m === 'sent' ? [h('p', { class: 'sc-card sc-done', role: 'status', text: T.offline_sent })]
        : [m === 'csat' ? csatForm() : h('p', { class: 'sc-done', role: 'status', text: T.csat_thanks }),
          h('div', { class: 'sc-card sc-again' }, h('button', { type: 'button', class: 'sc-btn sc-btn2', onclick: restart }, T.new_conversation))];
    foot.replaceChildren(...kids, powered || '');
    if (hadFocus || (isOpen && m === 'chat')) focusMain();
  }

  // Moves focus to the main control of the footer; never takes it from the shop's page unless asked to.
  function focusMain(force) {
    if (!force && !document.hasFocus()) return;
    const f = foot.querySelector('textarea,input,.sc-star,button');
    (f || closeBtn || ta).focus({ preventScroll: true });
  }

  async function restart(e) {
    const b = e.currentTarget;
    b.disabled = true;
    try {
      const d = await call('POST', '/conversations', { bot: SLUG });
      reset();
      (d.messages || []).forEach((m) => add(m, false));
      setConv(d.conversation);
      paint();
      focusMain();
    } catch (err) {
      b.disabled = false;
      b.after(h('p', { class: 'sc-ferr', role: 'alert', text: err.message }));
    }
  }

  /* ---------- forms: pre-chat, leave a message, rating ---------- */
  let fieldSeq = 0;
  const prefill = store.get('sc.p') || {};
  const FIELDS = {
    name: { type: 'text', ac: 'name' },
    email: { type: 'email', ac: 'email' },
    phone: { type: 'tel', ac: 'tel' },
    text: { multi: true },
  };
  // A form with labelled fields (name → required?); onSubmit(values) may throw a Problem with per-field errors.
  function form(title, intro, fields, submitText, onSubmit) {
    const inputs = {};
    const general = h('p', { class: 'sc-ferr', role: 'alert' });
    const btn = h('button', { type: 'submit', class: 'sc-btn' }, submitText);
    const f = h('form', { class: 'sc-card', novalidate: true }, h('h2', { class: 'sc-ct', text: title }),
      intro && h('p', { class: 'sc-p', text: intro }));
    for (const [name, required] of Object.entries(fields)) {
      const id = 'sc-f' + ++fieldSeq, spec = FIELDS[name];
      const input = h(spec.multi ? 'textarea' : 'input', {
        id, name, class: 'sc-in', type: spec.type, autocomplete: spec.ac, rows: spec.multi && 2,
        maxlength: spec.multi ? MAX : 200, required, 'aria-required': required && 'true', 'aria-describedby': id + 'e',
      });
      input.value = prefill[name] || '';
      inputs[name] = input;
      f.append(h('div', { class: 'sc-field' },
        h('label', { for: id }, T[name === 'text' ? 'message' : name], required && h('span', { class: 'sc-req', 'aria-hidden': 'true', text: ' *' })),
        input, h('p', { class: 'sc-ferr', id: id + 'e' })));
    }
    const mark = (name, msg) => {
      const i = inputs[name];
      if (!i) return;
      i.setAttribute('aria-invalid', msg ? 'true' : 'false');
      document.getElementById(i.id + 'e').textContent = msg || '';
    };
    f.append(general, btn);
    f.addEventListener('submit', async (e) => {
      e.preventDefault();
      const values = {};
      let bad = null;
      for (const [name, i] of Object.entries(inputs)) {
        const v = (values[name] = i.value.trim());
        const msg = !v ? (fields[name] ? T.required : '') : name === 'email' && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v) ? T.invalid_email : '';
        mark(name, msg);
        if (msg && !bad) bad = i;
      }
      general.textContent = '';
      if (bad) return bad.focus();
      btn.disabled = true;
      try {
        await onSubmit(values);
        Object.assign(prefill, values);
        delete prefill.text;
        store.set('sc.p', prefill);
      } catch (err) {
        // A problem document's errors are [{field, message}]; only those naming a field of this form go next to it.
        const list = Array.isArray(err.errors) ? err.errors.map((e) => [e.field, e.message]) : Object.entries(err.errors || {});
        const errs = list.filter(([k]) => k in inputs);
        errs.forEach(([k, v]) => mark(k, v));
        general.textContent = errs.length ? '' : err.message;
        const firstBad = errs.length && inputs[errs[0][0]];
        if (firstBad) firstBad.focus();
      } finally {
        btn.disabled = false;
      }
    });
    return f;
  }

  // The fields among names that are on (force: name → required, shown whatever the pre-chat settings say).
  const enabled = (names, force) => {
    const out = {};
    for (const n of names) {
      if (n in force) out[n] = force[n];
      else if (PRE[n] && PRE[n] !== 'off') out[n] = PRE[n] === 'required';
    }
    return out;
  };

  function prechatForm() {
    return form(T.prechat_title, null, enabled(['name', 'email', 'phone'], {}), T.start, async (v) => {
      if (v.name || v.email || v.phone) await call('POST', '/contact', Object.assign({ bot: SLUG }, v));
      save(Object.assign({}, V, { c: 1 }));
      paint();
      focusMain();
    });
  }

  function offlineForm() {
    // The shop answers by e-mail, so the address is always asked and required.
    const fields = enabled(['name', 'email', 'phone', 'text'], { name: PRE.name === 'required', email: true, text: true });
    return form(T.offline_title, cfg.away_message, fields, T.send, async (v) => {
      await call('POST', '/offline', Object.assign({ bot: SLUG, name: '', phone: '' }, v));
      offlineSent = true;
      paint();
      focusMain();
    });
  }

  function csatForm() {
    let rating = 0;
    const stars = [1, 2, 3, 4, 5].map((n) => h('button', {
      type: 'button', class: 'sc-star', 'aria-label': T.rate_n.replace('%n', n), 'aria-pressed': 'false',
      onclick: () => { rating = n; light(n); sendBtn.disabled = false; },
      onmouseenter: () => light(n, true),
    }, icon('star')));
    const light = (n, hover) => stars.forEach((s, i) => {
      s.classList.toggle('sc-on', i < n);
      if (!hover) s.setAttribute('aria-pressed', String(i === n - 1));
    });
    const id = 'sc-f' + ++fieldSeq;
    const comment = h('textarea', { id, class: 'sc-in', rows: 2, maxlength: MAX });
    const err = h('p', { class: 'sc-ferr', role: 'alert' });
    const sendBtn = h('button', { type: 'submit', class: 'sc-btn', disabled: true }, T.csat_send);
    return h('form', {
      class: 'sc-card', novalidate: true,
      onsubmit: async (e) => {
        e.preventDefault();
        if (!rating || !conv) return;
        sendBtn.disabled = true;
        try {
          await call('POST', '/csat', { conversation: conv.id, rating, comment: comment.value.trim() });
          csatSent = true;
          paint();
          focusMain();
        } catch (x) {
          err.textContent = x.message;
          sendBtn.disabled = false;
        }
      },
    }, h('h2', { class: 'sc-ct', id: id + 't', text: T.csat_title }),
    h('div', { class: 'sc-stars', role: 'group', 'aria-labelledby': id + 't', onmouseleave: () => light(rating, true) }, stars),
    h('div', { class: 'sc-field' }, h('label', { for: id, text: T.csat_comment }), comment), err, sendBtn);
  }

  /* ---------- the event stream (fetch + our own SSE parser, so the token travels in a header) ---------- */
  let streamGen = 0, backoff = 0, streamCtl = null;
  function stopStream() {
    streamGen++;
    if (streamCtl) streamCtl.abort();
    streamCtl = null;
    setDown(false);
  }
  function startStream() {
    stopStream();
    backoff = 0;
    if (conv) connect(streamGen);
  }
  function setDown(v) {
    if (!v) {
      clearTimeout(downTimer);
      downTimer = 0;
      if (down) { down = false; paintBanner(); }
    } else if (!downTimer && !down) {
      downTimer = setTimeout(() => { downTimer = 0; down = true; paintBanner(); }, 3000);
    }
  }
  async function connect(gen) {
    const ctl = (streamCtl = new AbortController());
    try {
      const headers = { Accept: 'text/event-stream', Authorization: 'Bearer ' + await token() };
      if (lastId) headers['Last-Event-ID'] = String(lastId);
      const r = await fetch(API + '/events?conversation=' + encodeURIComponent(conv.id),
        { headers, signal: ctl.signal, cache: 'no-store', credentials: 'omit' });
      if (r.status === 401 && gen === streamGen) { save({}); return void load(); }
      if (!r.ok || !r.body) throw new Error('stream');
      backoff = 0;
      setDown(false);
      const reader = r.body.getReader(), dec = new TextDecoder();
      let buf = '', ev = {};
      for (;;) {
        const { value, done } = await reader.read();
        if (done || gen !== streamGen) break;
        buf += dec.decode(value, { stream: true });
        const lines = buf.split(/\r\n|\r(?!$)|\n/); // a trailing \r may be the first half of \r\n
        buf = lines.pop();
        for (const line of lines) {
          if (!line) {
            if (ev.data != null) dispatch(ev.event || 'message', ev.data);
            ev = {};
          } else if (line[0] !== ':') {
            const i = line.indexOf(':');
            const field = i < 0 ? line : line.slice(0, i);
            let value = i < 0 ? '' : line.slice(i + 1);
            if (value[0] === ' ') value = value.slice(1);
            if (field === 'data') ev.data = ev.data == null ? value : ev.data + '\n' + value;
            else if (field === 'event' || field === 'id') ev[field] = value;
          }
        }
      }
    } catch (e) { /* reconnect below */ }
    if (gen !== streamGen) return; // stopped on purpose
    setDown(true);
    const wait = Math.min(15000, 1000 * 2 ** backoff++) + Math.random() * 800;
    setTimeout(() => { if (gen === streamGen && conv) connect(gen); }, wait);
  }
  function dispatch(type, data) {
    let d;
    try { d = JSON.parse(data); } catch (e) { return; }
    if (type === 'state') { if (d && conv && d.id === conv.id) setConv(d); }
    else if (type === 'message') add(d, true);
    else if (type === 'typing') showTyping(d || {});
    else if (type === 'draft') showDraft(d || {});
  }
  // An answer a language model is still writing: one bubble, replaced by the stored message when it comes.
  let draftEl = null;
  function showDraft(d) {
    if (!d.text) return;
    const stick = atEnd || nearEnd();
    if (!draftEl) {
      draftEl = render({ id: 0, author: 'bot', text: d.text, parts: [], created_at: new Date().toISOString() });
      draftEl.classList.add('sc-draft');
      append(draftEl);
    } else {
      const body = draftEl.querySelector('.sc-bubble');
      if (body) body.textContent = d.text;
    }
    typingEl.hidden = true;
    if (stick) toEnd();
  }
  function dropDraft() { if (draftEl) { draftEl.remove(); draftEl = null; } }
  let typingTimer = 0, lastFrom = 0;
  function showTyping(d) {
    // A typing notice that arrives right after that person's message is stale.
    if (Date.now() - lastFrom < 1500) return;
    const stick = atEnd || nearEnd();
    typingText.textContent = (d.name || (d.author === 'bot' ? BOT.name : '')) + ' ' + T.typing;
    typingEl.hidden = false;
    if (stick) toEnd();
    clearTimeout(typingTimer);
    typingTimer = setTimeout(() => { typingEl.hidden = true; }, 5000);
  }
  addEventListener('online', () => { if (conv && (down || downTimer)) startStream(); });

  /* ---------- unread, read receipts, sound ---------- */
  const visible = () => isOpen && document.visibilityState === 'visible';
  function incoming() {
    if (visible()) markRead();
    else tell({ type: 'unread', count: ++unread });
    if (!visible() || !document.hasFocus()) beep();
  }
  function seenAll() {
    if (!visible()) return;
    if (unread) { unread = 0; tell({ type: 'unread', count: 0 }); }
    markRead();
  }
  function markRead() {
    clearTimeout(readTimer);
    readTimer = setTimeout(() => {
      if (!conv || lastId <= readSent || !visible()) return;
      readSent = lastId;
      store.set('sc.r', { c: conv.id, m: lastId });
      call('POST', '/read', { conversation: conv.id, message: lastId }).catch(() => {});
    }, 600);
  }
  document.addEventListener('visibilitychange', seenAll);

  function paintSound() {
    soundBtn.replaceChildren(icon(sound ? 'on' : 'off'));
    soundBtn.setAttribute('aria-label', sound ? T.sound_off : T.sound_on);
    soundBtn.title = sound ? T.sound_off : T.sound_on;
  }
  function toggleSound() {
    sound = !sound;
    store.set('sc.s', sound ? 1 : null);
    paintSound();
    if (sound) beep();
  }
  function beep() {
    if (!sound) return;
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      if (audio.state === 'suspended') audio.resume();
      const t = audio.currentTime, o = audio.createOscillator(), g = audio.createGain();
      o.frequency.setValueAtTime(880, t);
      o.frequency.exponentialRampToValueAtTime(660, t + 0.18);
      g.gain.setValueAtTime(0.0001, t);
      g.gain.exponentialRampToValueAtTime(0.12, t + 0.02);
      g.gain.exponentialRampToValueAtTime(0.0001, t + 0.25);
      o.connect(g).connect(audio.destination);
      o.start(t);
      o.stop(t + 0.3);
    } catch (e) { /* no audio */ }
  }
  addEventListener('pointerdown', () => { if (audio && audio.state === 'suspended') audio.resume(); });

  /* ---------- keyboard: Esc closes, Tab stays inside while open ---------- */
  function close() {
    isOpen = false;
    tell({ type: 'close' });
  }
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && EMBED) {
      e.preventDefault();
      close();
    } else if (e.key === 'Tab') {
      const all = Array.from(document.querySelectorAll('button,a[href],input,textarea,select,[tabindex]'))
        .filter((x) => !x.disabled && x.tabIndex >= 0 && x.getClientRects().length);
      if (!all.length) return;
      const i = all.indexOf(document.activeElement);
      if (e.shiftKey ? i <= 0 : i < 0 || i === all.length - 1) {
        e.preventDefault();
        all[e.shiftKey ? all.length - 1 : 0].focus();
      }
    }
  });

  /* ---------- the loader and the identity ---------- */
  let idQueue = Promise.resolve(), idArrived;
  const idSeen = new Promise((r) => { idArrived = r; });
  const claims = (jwt) => {
    try { return JSON.parse(atob(jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))); } catch (e) { return {}; }
  };
  // Exchanges a signed customer identity for a customer token; null after a customer token means a logout.
  function identify(jwt) {
    idQueue = idQueue.then(async () => {
      const before = V.token;
      if (jwt) {
        const tail = jwt.slice(-24);
        const same = V.token && (V.j === tail || (V.sub && claims(jwt).sub === V.sub));
        if (!same) {
          try {
            const d = await call('POST', '/identify', { jwt }, true, false);
            save({ token: d.token, sub: d.sub || null, j: tail });
          } catch (e) {
            if (e.status === 401 && V.sub) save({}); // a stranger's identity must not keep a customer's token
          }
        }
      } else if (V.sub) save({});
      return V.token !== before;
    }).then((changed) => {
      idArrived();
      if (changed && loaded) load();
    }, () => idArrived());
  }

  addEventListener('message', (e) => {
    if (!EMBED || e.source !== window.parent || e.origin !== PARENT) return;
    const m = e.data;
    if (!m || m.sc !== 1) return;
    if (m.type === 'open') {
      isOpen = true;
      seenAll();
      requestAnimationFrame(toEnd); // the frame was display:none until now
      if (m.focus !== false) focusMain(true);
    } else if (m.type === 'close') {
      isOpen = false;
    } else if (m.type === 'identity') {
      identify(typeof m.jwt === 'string' && m.jwt ? m.jwt : null);
    }
  });

  (async () => {
    greet();
    paintBanner();
    if (EMBED) {
      tell({ type: 'ready' });
      await Promise.race([idSeen, sleep(2000)]); // the loader answers `ready` with the identity
    }
    await idQueue;
    await load();
    if (isOpen) focusMain();
  })();
})();
