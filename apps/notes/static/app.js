// The notes page: plain JavaScript against the app's own API, nothing fetched
// from anywhere else.
"use strict";

const $ = (id) => document.getElementById(id);
let token = sessionStorage.getItem("notes.token");
let me = null;
let socket = null; // the one live connection, or null
let retryTimer = null;
let retry = 0;
let total = 0; // notes on the server, on every page

async function api(method, path, body, form) {
  const headers = {};
  if (token) headers.authorization = "Bearer " + token;
  let payload;
  if (form) {
    payload = new URLSearchParams(body);
  } else if (body !== undefined) {
    headers["content-type"] = "application/json";
    payload = JSON.stringify(body);
  }
  const response = await fetch(path, { method, headers, body: payload });
  const type = response.headers.get("content-type") || "";
  let data = null;
  if (type.includes("json")) data = await response.json();
  else if (response.status !== 204) data = { detail: (await response.text()) || response.statusText };
  if (response.status === 401 && token) signOut();
  if (!response.ok) throw new Error(describe(data));
  return data;
}

// A 422's errors, or a plain detail, as one line.
function describe(data) {
  if (data && Array.isArray(data.detail)) {
    return data.detail.map((e) => e.loc.slice(1).join(".") + ": " + e.msg).join("; ");
  }
  return (data && data.detail) || "Something went wrong";
}

function when(at) {
  return new Date(at).toLocaleString();
}

function noteItem(note) {
  const li = document.createElement("li");
  li.dataset.id = note.id;
  const title = document.createElement("div");
  title.className = "note-title";
  title.textContent = note.title;
  const body = document.createElement("div");
  body.className = "note-body";
  body.textContent = note.body;
  const meta = document.createElement("div");
  meta.className = "meta";
  meta.textContent = note.owner + " · " + when(note.updated_at);
  li.append(title, body, meta);
  if (me && note.owner === me.username) {
    const remove = document.createElement("button");
    remove.textContent = "Delete";
    remove.className = "delete";
    remove.onclick = () =>
      api("DELETE", "/notes/" + note.id)
        .then(() => removeNote(note.id))
        .catch((e) => ($("note-error").textContent = e.message));
    meta.append(" ", remove);
  }
  return li;
}

// A note written (`created`) or changed: a change only replaces a note shown here, so
// that a note deleted meanwhile, or beyond the loaded page, does not come back.
function showNote(note, fresh, created) {
  const existing = document.querySelector(`#notes li[data-id="${note.id}"]`);
  const li = noteItem(note);
  if (fresh) li.classList.add("new");
  if (existing) existing.replaceWith(li);
  else if (created) {
    $("notes").prepend(li);
    total += 1;
  }
  updateCount();
}

function removeNote(id) {
  const existing = document.querySelector(`#notes li[data-id="${id}"]`);
  if (existing) {
    existing.remove();
    total -= 1;
  }
  updateCount();
}

function updateCount() {
  const shown = $("notes").children.length;
  $("count").textContent = shown < total ? `(${shown} of ${total})` : `(${total})`;
}

function showActivity(entry, atTop) {
  const li = document.createElement("li");
  li.textContent = entry.username + " " + entry.summary + " — " + when(entry.at);
  if (atTop) $("activity").prepend(li);
  else $("activity").append(li);
}

async function load() {
  const page = await api("GET", "/notes/?limit=100");
  $("notes").replaceChildren(...page.data.map(noteItem));
  total = page.count;
  updateCount();
  const activity = await api("GET", "/activity/?limit=20");
  $("activity").replaceChildren();
  activity.forEach((entry) => showActivity(entry, false));
}

function follow() {
  retryTimer = null;
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const current = new WebSocket(`${scheme}//${location.host}/ws?token=${encodeURIComponent(token)}`);
  let opened = false;
  socket = current;
  current.onopen = () => {
    opened = true;
    retry = 0;
    $("live").textContent = "live";
    $("live").className = "on";
    // What changed while the page was not following.
    load().catch(() => {});
  };
  current.onmessage = (message) => {
    const event = JSON.parse(message.data);
    if (event.type === "note.created") showNote(event.note, true, true);
    else if (event.type === "note.updated") showNote(event.note, true, false);
    else if (event.type === "note.deleted") removeNote(event.id);
    else if (event.type === "activity") showActivity(event.entry, true);
    else if (event.type === "resync") load().catch(() => {});
  };
  current.onclose = async (closed) => {
    if (socket !== current) return; // signed out, or replaced
    socket = null;
    $("live").textContent = "offline";
    $("live").className = "off";
    // Refused, or closed because the token expired: ask the API, whose 401 signs out.
    if (!opened || closed.code === 1008) await api("GET", "/users/me").catch(() => {});
    if (token) retryTimer = setTimeout(follow, Math.min(10000, 500 * 2 ** retry++));
  };
}

async function signIn(username, password) {
  const granted = await api("POST", "/token", { username, password, scope: "me notes:read notes:write" }, true);
  token = granted.access_token;
  sessionStorage.setItem("notes.token", token);
  await enter();
}

async function enter() {
  me = await api("GET", "/users/me");
  $("who").textContent = me.full_name ? `${me.full_name} (${me.username})` : me.username;
  $("account").hidden = true;
  $("board").hidden = false;
  $("logout").hidden = false;
  follow();
}

function signOut() {
  token = null;
  me = null;
  sessionStorage.removeItem("notes.token");
  clearTimeout(retryTimer);
  retryTimer = null;
  const open = socket;
  socket = null;
  if (open) open.close();
  $("who").textContent = "";
  $("account").hidden = false;
  $("board").hidden = true;
  $("logout").hidden = true;
}

$("login-form").onsubmit = async (e) => {
  e.preventDefault();
  $("account-error").textContent = "";
  try {
    await signIn($("username").value, $("password").value);
  } catch (err) {
    $("account-error").textContent = err.message;
  }
};

$("signup").onclick = async () => {
  $("account-error").textContent = "";
  try {
    await api("POST", "/users/", { username: $("username").value, password: $("password").value });
    await signIn($("username").value, $("password").value);
  } catch (err) {
    $("account-error").textContent = err.message;
  }
};

$("note-form").onsubmit = async (e) => {
  e.preventDefault();
  $("note-error").textContent = "";
  try {
    const note = await api("POST", "/notes/", { title: $("new-title").value, body: $("new-body").value });
    showNote(note, false, true);
    $("new-title").value = "";
    $("new-body").value = "";
  } catch (err) {
    $("note-error").textContent = err.message;
  }
};

$("logout").onclick = signOut;

if (token) enter().catch(signOut);
