// kiln's dashboard: refreshes the page's <main> in place from the server's own rendering, and
// counts down to the next window. Without this script every page still reads in full.
"use strict";
(() => {
  const main = document.getElementById("live");
  const state = document.getElementById("live-state");
  const every = Number(main && main.dataset.refreshMs);
  let deadline = null;

  function countdownFrom(root) {
    const el = root.querySelector("#next-window");
    const s = el && Number(el.dataset.seconds);
    deadline = Number.isFinite(s) ? Date.now() + s * 1000 : null;
  }

  function tick() {
    const el = document.getElementById("next-window");
    if (!el || deadline === null) return;
    const s = Math.max(0, Math.round((deadline - Date.now()) / 1000));
    el.textContent = s >= 60 ? `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s` : `${s} s`;
  }

  async function refresh() {
    if (document.hidden) return;
    try {
      const r = await fetch(location.href, { cache: "no-store", headers: { Accept: "text/html" } });
      const doc = new DOMParser().parseFromString(await r.text(), "text/html");
      const next = doc.getElementById("live");
      if (!r.ok || !next) throw new Error(`HTTP ${r.status}`);
      main.replaceChildren(...next.childNodes);
      countdownFrom(main);
      tick();
      main.dataset.live = "ok";
      main.dataset.refreshes = String(Number(main.dataset.refreshes || 0) + 1);
      state.textContent = `· updated ${new Date().toLocaleTimeString()}`;
    } catch (e) {
      main.dataset.live = "error";
      state.textContent = `· offline (${e.message}), retrying`;
    }
  }

  window.addEventListener("load", () => {
    // How long the page took to load, for anyone measuring it.
    const nav = performance.getEntriesByType("navigation")[0];
    if (nav) document.documentElement.dataset.loadMs = String(Math.round(nav.loadEventStart));
  });
  if (!main) return;
  countdownFrom(main);
  setInterval(tick, 1000);
  if (Number.isFinite(every) && every > 0) setInterval(refresh, every);
})();
