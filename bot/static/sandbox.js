// The sandbox page: polls /sandbox/state and sends clicks, modal submissions, slash commands
// and Stripe simulations to the sandbox endpoints, which forward them to dunbot signed.
"use strict";
(function () {
  const body = document.body;
  const userChoices = Array.from(document.querySelectorAll('input[name="user"]'));
  const statusLine = document.getElementById("status-line");
  const confirmDialog = document.getElementById("confirm-dialog");
  const modalDialog = document.getElementById("modal");
  let user = body.dataset.user;
  let knownHash = "";
  let modalId = null;
  let pollTimer = null;
  let currentPane = document.querySelector('.tab[aria-selected="true"]').dataset.pane;
  // Unread marks: the top-level messages each channel had when you last looked at it.
  const seen = {};
  const unread = {};

  function say(text) { statusLine.textContent = text; }

  async function post(path, data) {
    const response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(data),
    });
    let answer = {};
    try { answer = await response.json(); } catch (e) { answer = {}; }
    if (!response.ok && !answer.error) { answer.error = answer.detail || ("HTTP " + response.status); }
    return answer;
  }

  // A stable key for the focused element, so a refresh can put the focus back.
  function focusKey(el) {
    if (!el || el === document.body) return null;
    const article = el.closest("[data-ts]");
    if (el.dataset.actionId && article) return { sel: '[data-ts="' + article.dataset.ts + '"] [data-action-id="' + el.dataset.actionId + '"]' };
    if (el.dataset.invoiceId) return { sel: '[data-invoice-id="' + el.dataset.invoiceId + '"][data-action="' + el.dataset.action + '"]' };
    return null;
  }

  function detailsKey(details) {
    const item = details.closest("[data-message-id]");
    return item ? item.dataset.messageId : details.querySelector("summary").textContent;
  }

  function replace(container, html) {
    if (!container || container.innerHTML === html) return;
    const key = focusKey(document.activeElement);
    // Keep what the reader opened or folded; new items keep the page's default.
    const folded = new Map(Array.from(container.querySelectorAll("details")).map((d) => [detailsKey(d), d.open]));
    const feed = container.classList.contains("feed");
    const atBottom = feed && container.scrollHeight - container.scrollTop - container.clientHeight < 40;
    container.innerHTML = html;
    container.querySelectorAll("details").forEach((d) => {
      const known = folded.get(detailsKey(d));
      if (known !== undefined) d.open = known;
    });
    if (atBottom) container.scrollTop = container.scrollHeight;
    if (key && container.contains(document.querySelector(key.sel)) === true) {
      document.querySelector(key.sel).focus();
    }
  }

  function showModal(modal) {
    if (!modal) {
      if (modalDialog.open) modalDialog.close();
      modalId = null;
      return;
    }
    if (modal.id === modalId && modalDialog.open) return;
    modalId = modal.id;
    modalDialog.innerHTML = modal.html;
    if (!modalDialog.open) modalDialog.showModal();
    const first = modalDialog.querySelector("input, textarea");
    if (first) first.focus();
  }

  function topLevelMessages(channel) {
    const feed = document.getElementById("feed-" + channel);
    return Array.from(feed.querySelectorAll("article.message:not(.ephemeral):not(.reply)")).map((a) => a.dataset.ts);
  }

  function showUnread(channel) {
    const tab = document.getElementById("tab-" + channel);
    const mark = tab.querySelector(".unread");
    const count = unread[channel] || 0;
    tab.classList.toggle("has-unread", count > 0);
    mark.hidden = count === 0;
    mark.textContent = count ? String(count) : "";
    if (count) {
      const label = document.createElement("span");
      label.className = "visually-hidden";
      label.textContent = count === 1 ? " unread message" : " unread messages";
      mark.appendChild(label);
    }
  }

  // New top-level messages in a channel you are not looking at count as unread.
  function markUnread(channel) {
    const now = topLevelMessages(channel);
    const before = seen[channel] || new Set();
    const fresh = now.filter((ts) => !before.has(ts)).length;
    seen[channel] = new Set(now);
    if (channel === currentPane || fresh === 0) return;
    unread[channel] = (unread[channel] || 0) + fresh;
    showUnread(channel);
  }

  function markRead(channel) {
    if (!(channel in seen)) return;
    seen[channel] = new Set(topLevelMessages(channel));
    unread[channel] = 0;
    showUnread(channel);
  }

  function apply(state) {
    if (state.unchanged) return;
    knownHash = state.hash;
    Object.entries(state.channels).forEach(([channel, html]) => {
      replace(document.getElementById("feed-" + channel), html);
      markUnread(channel);
    });
    replace(document.getElementById("feed-home"), state.home);
    replace(document.getElementById("billing"), state.billing);
    replace(document.getElementById("outbox"), state.outbox);
    showModal(state.modal);
  }

  async function poll() {
    clearTimeout(pollTimer);
    try {
      const response = await fetch("/sandbox/state?user=" + encodeURIComponent(user) + "&known=" + encodeURIComponent(knownHash), { cache: "no-store" });
      if (response.ok) apply(await response.json());
    } catch (e) {
      say("Lost contact with dunbot; retrying…");
    }
    pollTimer = setTimeout(poll, 1000);
  }

  function askConfirm(spec) {
    return new Promise((resolve) => {
      document.getElementById("confirm-title").textContent = spec.title;
      document.getElementById("confirm-text").textContent = spec.text;
      document.getElementById("confirm-yes").textContent = spec.confirm;
      document.getElementById("confirm-deny").textContent = spec.deny;
      confirmDialog.returnValue = "";
      confirmDialog.addEventListener("close", () => resolve(confirmDialog.returnValue === "confirm"), { once: true });
      confirmDialog.showModal();
      document.getElementById("confirm-deny").focus();
    });
  }

  document.addEventListener("click", async (event) => {
    const button = event.target.closest("button");
    if (!button) return;
    if (button.classList.contains("tab")) { selectPane(button.dataset.pane); return; }
    if (button.classList.contains("billing-action")) {
      button.disabled = true;
      const answer = await post("/sandbox/api/billing", { invoice_id: button.dataset.invoiceId, action: button.dataset.action });
      say(answer.error ? "Stripe refused: " + answer.error : "Sent " + answer.event + " to dunbot (HTTP " + answer.status + ").");
      poll();
      return;
    }
    if (button.classList.contains("advance-action")) {
      button.disabled = true;
      const answer = await post("/sandbox/api/advance", { invoice_id: button.dataset.invoiceId, days: Number(button.dataset.days) });
      say(answer.error ? "Could not advance: " + answer.error : "Advanced: " + answer.text);
      button.disabled = false;
      poll();
      return;
    }
    if (button.classList.contains("modal-close")) {
      const id = modalId;
      modalDialog.close();
      modalId = null;
      await post("/sandbox/api/close", { user: user, view_id: id });
      poll();
      return;
    }
    const article = button.closest("article.message[data-channel]");
    if (!button.dataset.actionId || !article) return;
    if (button.dataset.confirm) {
      const ok = await askConfirm(JSON.parse(button.dataset.confirm));
      if (!ok) { button.focus(); return; }
    }
    button.setAttribute("aria-busy", "true");
    const answer = await post("/sandbox/api/click", {
      user: user, channel: article.dataset.channel, ts: article.dataset.ts,
      action_id: button.dataset.actionId, block_id: button.dataset.blockId,
    });
    button.removeAttribute("aria-busy");
    say(answer.error ? "Not sent: " + answer.error : "Clicked “" + button.textContent + "” as " + user + " (dunbot answered HTTP " + answer.status + ").");
    poll();
  });

  modalDialog.addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const values = {};
    form.querySelectorAll("[data-block-id][data-action-id]").forEach((field) => {
      values[field.dataset.blockId] = values[field.dataset.blockId] || {};
      values[field.dataset.blockId][field.dataset.actionId] = field.value;
    });
    form.querySelectorAll(".field-error").forEach((p) => { p.textContent = ""; });
    const answer = await post("/sandbox/api/submit", { user: user, view_id: form.dataset.viewId, values: values });
    const errors = answer.errors || {};
    if (answer.error) {
      const box = form.querySelector(".modal-error");
      box.hidden = false;
      box.textContent = answer.error;
      return;
    }
    if (Object.keys(errors).length) {
      Object.entries(errors).forEach(([blockId, message]) => {
        const field = form.querySelector('.input-block[data-block-id="' + CSS.escape(blockId) + '"]');
        if (field) { field.querySelector(".field-error").textContent = message; field.querySelector("input, textarea").focus(); }
      });
      return;
    }
    modalDialog.close();
    modalId = null;
    poll();
  });

  modalDialog.addEventListener("cancel", () => {
    const id = modalId;
    modalId = null;
    if (id) post("/sandbox/api/close", { user: user, view_id: id });
  });

  document.getElementById("command-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = document.getElementById("command-input");
    const channel = currentPane === "home" ? document.querySelector(".tab[data-pane]").dataset.pane : currentPane;
    const answer = await post("/sandbox/api/command", { user: user, channel: channel, text: input.value });
    say(answer.error ? "Not sent: " + answer.error : "dunbot replied (only visible to you).");
    input.value = "/dunning ";
    poll();
  });

  function selectPane(pane) {
    currentPane = pane;
    markRead(pane);
    document.querySelectorAll(".tab").forEach((tab) => {
      const selected = tab.dataset.pane === pane;
      tab.setAttribute("aria-selected", selected ? "true" : "false");
      document.getElementById("pane-" + tab.dataset.pane).hidden = !selected;
    });
    if (pane === "home") post("/sandbox/api/home", { user: user }).then(poll);
  }

  function switchUser(choice) {
    user = choice.value;
    body.dataset.user = user;
    const url = new URL(window.location.href);
    url.searchParams.set("user", user);
    history.replaceState(null, "", url);
    knownHash = "";
    modalId = null;
    if (modalDialog.open) modalDialog.close();
    say("Now acting as " + choice.closest("label").querySelector(".user-name").textContent + ".");
    if (currentPane === "home") post("/sandbox/api/home", { user: user });
    poll();
  }
  userChoices.forEach((choice) => choice.addEventListener("change", () => { if (choice.checked) switchUser(choice); }));

  document.querySelectorAll(".tab[data-pane]").forEach((tab) => {
    const feed = document.getElementById("feed-" + tab.dataset.pane);
    if (feed && tab.querySelector(".unread")) seen[tab.dataset.pane] = new Set(topLevelMessages(tab.dataset.pane));
  });
  poll();
})();
