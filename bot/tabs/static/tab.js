// Signs in with Teams (single sign-on) when the page runs inside Teams, then shows the
// server-rendered fragments of the page, follows their links in place, and sends its forms
// (file uploads, confirmations) with the same sign-in.
"use strict";

(function () {
  const body = document.body;
  const main = document.getElementById("content");
  const language = body.dataset.language;

  // Outside Teams (the demo in a browser) there is no host to ask: the server decides.
  async function teamsToken() {
    const teams = window.microsoftTeams;
    if (!teams || window.parent === window) {
      return null;
    }
    const timeout = new Promise((resolve) => setTimeout(() => resolve(null), 10000));
    const token = (async () => {
      await teams.app.initialize();
      return teams.authentication.getAuthToken();
    })().catch(() => null);
    return Promise.race([token, timeout]);
  }

  function withLanguage(path) {
    const url = new URL(path, window.location.href);
    url.searchParams.set("lang", language);
    return url;
  }

  async function start() {
    const token = await teamsToken();
    const headers = token ? { Authorization: "Bearer " + token } : {};

    let shown = null;
    let refresh = null;

    // `quietly`: a refresh of the view already shown keeps the reader's place.
    async function show(path, quietly = false) {
      clearTimeout(refresh);
      shown = path;
      main.setAttribute("aria-busy", "true");
      const response = await fetch(withLanguage(path), { headers });
      // Every answer, an error too, is an escaped HTML fragment worded by the server.
      showAnswer(await response.text());
      wire(main);
      const again = main.querySelector("[data-refresh]");
      if (again) {
        // A campaign still sending: fetch the same view again until it has settled.
        refresh = setTimeout(() => shown === path && show(path, true), 1000 * again.dataset.refresh);
      }
      const heading = main.querySelector("h2");
      if (heading && !quietly) {
        heading.setAttribute("tabindex", "-1");
        heading.focus();
      }
    }

    function showAnswer(html) {
      main.innerHTML = html;
      main.setAttribute("aria-busy", "false");
    }

    // A form of the page (an upload, a confirmation): sent with the sign-in and the header that
    // says it comes from this script; the answer is the view to show next.
    async function send(form, submitter) {
      const body = new FormData(form);
      if (submitter && submitter.name) {
        body.append(submitter.name, submitter.value);
      }
      form.querySelectorAll("button").forEach((button) => (button.disabled = true));
      main.setAttribute("aria-busy", "true");
      const response = await fetch(withLanguage(form.getAttribute("action")), {
        method: "POST",
        headers: { ...headers, "X-Puhelinbotti-Tab": "1" },
        body,
      });
      clearTimeout(refresh);
      shown = null;
      showAnswer(await response.text());
      wire(main);
      const status = main.querySelector("[role=status], [role=alert], h2");
      if (status) {
        status.setAttribute("tabindex", "-1");
        status.focus();
      }
    }

    async function download(link) {
      const response = await fetch(withLanguage(link.getAttribute("href")), { headers });
      if (!response.ok) {
        main.innerHTML = await response.text();
        return;
      }
      const url = URL.createObjectURL(await response.blob());
      const save = document.createElement("a");
      save.href = url;
      save.download = link.dataset.download;
      document.body.appendChild(save);
      save.click();
      save.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    }

    function wire(root) {
      root.querySelectorAll("a[data-fragment]").forEach((link) => {
        link.addEventListener("click", (event) => {
          event.preventDefault();
          show(link.getAttribute("href"));
        });
      });
      root.querySelectorAll("form[data-send]").forEach((form) => {
        form.addEventListener("submit", (event) => {
          event.preventDefault();
          send(form, event.submitter);
        });
      });
      root.querySelectorAll("a[data-download]").forEach((link) => {
        link.addEventListener("click", (event) => {
          event.preventDefault();
          download(link);
        });
      });
    }

    show(body.dataset.start);
  }

  start();
})();
