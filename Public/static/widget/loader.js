/* Chat widget loader: draws the launcher in a closed shadow root and opens the chat in an iframe served by the
   widget's host. It defines one global (SiteChat) and never throws into the page. */
(function () {
  'use strict';
  const me = document.currentScript; // only readable synchronously, while this script first runs
  const safe = (f) => function () { try { return f.apply(this, arguments); } catch (e) { /* keep the page working */ } };

  safe(() => {
    if (window.SiteChat) return; // pasted twice: the first copy wins
    const C = __CONFIG__;
    const d = (me && me.dataset) || {};
    const has = (o, k) => !!o && typeof k === 'string' && Object.prototype.hasOwnProperty.call(o, k);
    const slug = has(C.bots, d.bot) ? d.bot : C.default_bot;
    const B = has(C.bots, slug) && C.bots[slug];
    if (!B) return;
    const pick = (l) => (/^(ru|en)\b/i.test(l || '') ? l.slice(0, 2).toLowerCase() : '');
    const lang = pick(d.lang) || pick(document.documentElement.lang) || C.lang;
    const FO = new URL(C.origin || me.src).origin; // the frame's origin: target of every postMessage
    const label = (B.label && (B.label[lang] || B.label[C.lang])) || B.name;
    const KEY = 'sc.o';
    let identity = d.identity || null;
    let ready = false, want = false, shown = false, unread = 0, frame = null, timer = 0;

    const remember = (open) => {
      try { open ? sessionStorage.setItem(KEY, '1') : sessionStorage.removeItem(KEY); } catch (e) { /* storage off */ }
    };
    const wasOpen = () => { try { return sessionStorage.getItem(KEY) === '1'; } catch (e) { return false; } };

    const NS = 'http://www.w3.org/2000/svg';
    const icon = (cls, path) => {
      const s = document.createElementNS(NS, 'svg'), p = document.createElementNS(NS, 'path');
      s.setAttribute('viewBox', '0 0 24 24');
      s.setAttribute('aria-hidden', 'true');
      s.setAttribute('class', cls);
      p.setAttribute('d', path);
      s.appendChild(p);
      return s;
    };
    const el = (tag, cls) => { const e = document.createElement(tag); e.className = cls; return e; };

    // The host element: inline !important declarations beat any rule of the page, `all` resets inheritance.
    const host = document.createElement('div');
    host.style.cssText = 'all:initial!important;display:block!important;position:fixed!important;' +
      'z-index:2147483647!important;top:auto!important;left:auto!important;right:0!important;bottom:0!important;' +
      'width:0!important;height:0!important;overflow:visible!important;visibility:visible!important;opacity:1!important';
    const root = host.attachShadow({ mode: 'closed' });
    const css = `
.sc-w{--b:#334155;--o:#fff;font:400 14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif}
.sc-l{position:fixed;right:20px;bottom:20px;z-index:2;box-sizing:border-box;width:60px;height:60px;margin:0;padding:0;
 border:0;border-radius:50%;background:var(--b);color:var(--o);box-shadow:0 6px 20px rgba(0,0,0,.22),0 1px 3px rgba(0,0,0,.2);
 cursor:pointer;display:grid;place-items:center;-webkit-tap-highlight-color:transparent}
.sc-l:focus-visible{outline:3px solid var(--b);outline-offset:3px}
.sc-l svg{width:28px;height:28px;fill:none;stroke:currentColor;stroke-width:2;stroke-linecap:round;stroke-linejoin:round}
.sc-x,.sc-open .sc-c{display:none}.sc-open .sc-x{display:block}
.sc-l[aria-busy=true] svg{opacity:.6}
.sc-n{position:absolute;top:-3px;right:-3px;box-sizing:border-box;min-width:22px;height:22px;padding:0 6px;border:2px solid #fff;
 border-radius:11px;background:#dc2626;color:#fff;font:700 12px/18px system-ui,sans-serif;text-align:center}
.sc-n[hidden]{display:none}
.sc-f{position:fixed;right:20px;bottom:92px;z-index:3;display:none;width:380px;height:600px;max-height:calc(100vh - 100px);
 border-radius:16px;overflow:hidden;background:#fff;box-shadow:0 16px 48px rgba(0,0,0,.22),0 2px 8px rgba(0,0,0,.08)}
.sc-open .sc-f{display:block}
.sc-left .sc-l,.sc-left .sc-f{right:auto;left:20px}
.sc-f iframe{display:block;width:100%;height:100%;border:0;color-scheme:normal}
@media (max-width:640px){.sc-w .sc-f{top:0;left:0;right:0;bottom:0;width:auto;height:auto;max-height:none;border-radius:0;box-shadow:none}}
@media (prefers-reduced-motion:no-preference){.sc-l{transition:transform .15s}.sc-l:hover{transform:scale(1.05)}
 .sc-open .sc-f{animation:sc-in .2s ease-out}@keyframes sc-in{from{opacity:0;transform:translateY(10px)}}}`;
    // A constructed sheet is not blocked by a strict style-src of the page; <style> where unsupported.
    if (root.adoptedStyleSheets && window.CSSStyleSheet && 'replaceSync' in CSSStyleSheet.prototype) {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(css);
      root.adoptedStyleSheets = [sheet];
    } else {
      const style = document.createElement('style');
      style.textContent = css;
      root.appendChild(style);
    }

    const wrap = el('div', 'sc-w' + (B.position === 'left' ? ' sc-left' : ''));
    if (B.color) wrap.style.setProperty('--b', B.color);
    if (B.on_color) wrap.style.setProperty('--o', B.on_color);
    const btn = el('button', 'sc-l');
    btn.type = 'button';
    btn.setAttribute('aria-expanded', 'false');
    const badge = el('span', 'sc-n');
    badge.hidden = true;
    badge.setAttribute('aria-hidden', 'true');
    btn.append(icon('sc-c', 'M7.9 20A9 9 0 1 0 4 16.1L2 22Z'), icon('sc-x', 'M18 6 6 18M6 6l12 12'), badge);
    const box = el('div', 'sc-f');
    wrap.append(btn, box);
    root.appendChild(wrap);

    const paint = () => {
      const n = shown ? 0 : unread;
      badge.hidden = !n;
      badge.textContent = n > 99 ? '99+' : String(n);
      btn.setAttribute('aria-label', n ? label + ' (' + n + ')' : label);
      btn.setAttribute('aria-expanded', String(shown));
      wrap.classList.toggle('sc-open', shown);
    };
    const post = (m) => { if (ready && frame && frame.contentWindow) frame.contentWindow.postMessage(Object.assign({ sc: 1 }, m), FO); };

    // Creates the iframe once; its requests start only now.
    const make = () => {
      if (frame) return;
      frame = document.createElement('iframe');
      frame.title = B.name;
      frame.setAttribute('allow', '');
      frame.src = FO + C.frame + '?bot=' + encodeURIComponent(slug) + '&lang=' + encodeURIComponent(lang) +
        '&parent=' + encodeURIComponent(location.origin);
      box.appendChild(frame);
      // No `ready` in time (blocked, error page, offline): drop it, the next interaction tries again.
      timer = setTimeout(safe(() => {
        if (ready) return;
        frame.remove();
        frame = null;
        btn.removeAttribute('aria-busy');
      }), 20000);
    };

    const show = (focus) => {
      want = true;
      remember(true);
      if (!ready) {
        if (focus) btn.setAttribute('aria-busy', 'true');
        make();
        return;
      }
      shown = true;
      paint();
      if (focus) frame.focus();
      post({ type: 'open', focus: !!focus });
    };
    const hide = (refocus) => {
      const inside = document.activeElement === host;
      want = shown = false;
      remember(false);
      btn.removeAttribute('aria-busy');
      paint();
      post({ type: 'close' });
      if (refocus || inside) btn.focus();
    };
    // By what the shopper sees: a click on a closed launcher opens, even while a reopening after a reload waits for the frame.
    const toggle = () => (shown ? hide(true) : show(true));

    addEventListener('message', safe((e) => {
      if (!frame || e.source !== frame.contentWindow || e.origin !== FO) return;
      const m = e.data;
      if (!m || m.sc !== 1) return;
      if (m.type === 'ready') {
        ready = true;
        clearTimeout(timer);
        post({ type: 'identity', jwt: identity });
        if (want) show(btn.getAttribute('aria-busy') === 'true');
        btn.removeAttribute('aria-busy');
      } else if (m.type === 'close') {
        hide(true);
      } else if (m.type === 'unread') {
        unread = Math.max(0, m.count | 0);
        paint();
      }
    }));

    btn.addEventListener('click', safe(toggle));
    for (const t of ['focus', 'pointerenter', 'touchstart', 'keydown']) btn.addEventListener(t, safe(make), { passive: true });
    wrap.addEventListener('keydown', safe((e) => { if (e.key === 'Escape' && want) hide(true); }));

    window.SiteChat = Object.freeze({
      open: safe(() => show(true)),
      close: safe(() => hide(false)),
      toggle: safe(toggle),
      identify: safe((jwt) => { identity = jwt || null; post({ type: 'identity', jwt: identity }); }),
    });
    paint();

    const mount = safe(() => {
      document.body.appendChild(host);
      if (wasOpen()) return show(false);
      // Otherwise load the chat once the page is idle, so the shop's own page comes first.
      const idle = () => (window.requestIdleCallback ? requestIdleCallback(safe(make), { timeout: 5000 }) : setTimeout(safe(make), 3000));
      document.readyState === 'complete' ? idle() : addEventListener('load', safe(idle), { once: true });
    });
    document.body ? mount() : document.addEventListener('DOMContentLoaded', mount, { once: true });
  })();
})();
