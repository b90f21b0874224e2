/** The demo inbox page. Item text is set with textContent only, never parsed as HTML. */
export const DEMO_INBOX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Herald inbox demo</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; max-width: 44rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
  form { display: flex; gap: .5rem; }
  input { flex: 1; font: inherit; padding: .4rem; }
  button { font: inherit; padding: .4rem .8rem; cursor: pointer; }
  #bar { display: flex; justify-content: space-between; align-items: center; margin: 1rem 0; }
  #badge { background: #c62828; color: #fff; border-radius: 1rem; padding: .1rem .6rem; font-weight: bold; }
  #status { color: #666; font-size: .9em; }
  ul { list-style: none; padding: 0; }
  li { border: 1px solid #ddd; border-radius: 6px; padding: .6rem .8rem; margin-bottom: .5rem; cursor: pointer; }
  li.unread { border-left: 4px solid #1565c0; background: #f5f9ff; }
  li .title { font-weight: 600; }
  li .meta { color: #777; font-size: .8em; }
</style>
</head>
<body>
<h1>Herald inbox</h1>
<form id="connect">
  <input id="token" placeholder="user token (herald token &lt;userId&gt;)" autocomplete="off">
  <button type="submit">Connect</button>
</form>
<div id="bar">
  <span>Unread <span id="badge">0</span> <button id="all" type="button">Mark all read</button></span>
  <span id="status">not connected</span>
</div>
<ul id="items"></ul>
<script>
(() => {
  const $ = (id) => document.getElementById(id);
  const items = new Map();
  let ws, lastSeq, token, retry, tokenWorked = false;

  const status = (text) => { $('status').textContent = text; };
  const setUnread = (n) => { $('badge').textContent = String(n); };

  function render(item) {
    let li = document.getElementById('item-' + item.id);
    if (!li) {
      li = document.createElement('li');
      li.id = 'item-' + item.id;
      li.dataset.seq = item.seq;
      li.addEventListener('click', () => send({ type: 'read', ids: [item.id] }));
      const later = [...$('items').children].find((el) => Number(el.dataset.seq) < Number(item.seq));
      $('items').insertBefore(li, later || null);
    }
    li.className = item.readAt ? 'read' : 'unread';
    li.replaceChildren();
    const title = document.createElement('div');
    title.className = 'title';
    title.textContent = item.title;
    const body = document.createElement('div');
    body.textContent = item.body;
    const meta = document.createElement('div');
    meta.className = 'meta';
    meta.textContent = '#' + item.seq + ' · ' + new Date(item.createdAt).toLocaleString() +
      (item.category ? ' · ' + item.category : '');
    li.append(title, body, meta);
    if (item.url && /^(https?:\\/\\/|\\/)/.test(item.url)) {
      const a = document.createElement('a');
      a.href = item.url;
      a.textContent = item.url;
      a.addEventListener('click', (e) => e.stopPropagation());
      li.append(a);
    }
  }

  function remember(item) {
    items.set(item.id, item);
    lastSeq = Math.max(lastSeq ?? 0, Number(item.seq));
    render(item);
  }

  function send(frame) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(frame));
  }

  function connect() {
    clearTimeout(retry);
    if (ws) { ws.onclose = null; ws.close(); }
    const url = new URL('/v1/ws', location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    url.searchParams.set('token', token);
    if (lastSeq !== undefined) url.searchParams.set('since', String(lastSeq));
    status('connecting…');
    ws = new WebSocket(url);
    ws.onmessage = (ev) => {
      const f = JSON.parse(ev.data);
      if (f.type === 'hello') {
        tokenWorked = true;
        status('connected as ' + f.userId);
        f.items.forEach(remember);
        lastSeq = Math.max(lastSeq ?? 0, f.lastSeq);
        setUnread(f.unread);
      } else if (f.type === 'message') {
        remember(f.item);
        setUnread(f.unread);
      } else if (f.type === 'unread') {
        setUnread(f.unread);
        // A read elsewhere: show read state without refetching; items read here or in another tab.
        if (f.unread === 0) for (const it of items.values()) if (!it.readAt) { it.readAt = new Date().toISOString(); render(it); }
      } else if (f.type === 'error') {
        status('error: ' + f.message);
      }
    };
    ws.onclose = (ev) => {
      // A refused token is a 401 before the upgrade, which browsers report only as 1006: retry only
      // with a token that got a hello before, or a bad token would loop here.
      if (!tokenWorked || ev.code === 1008) {
        status('could not connect (' + ev.code + '): check the token, then connect again');
        return;
      }
      status('disconnected (' + ev.code + (ev.reason ? ' ' + ev.reason : '') + '), retrying…');
      retry = setTimeout(connect, 2000);
    };
  }

  $('connect').addEventListener('submit', (e) => {
    e.preventDefault();
    token = $('token').value.trim();
    tokenWorked = false;
    items.clear();
    lastSeq = undefined;
    $('items').replaceChildren();
    if (token) connect();
  });
  $('all').addEventListener('click', () => send({ type: 'read', all: true }));
  $('items').addEventListener('click', (e) => {
    const li = e.target.closest('li');
    if (!li) return;
    const it = items.get(li.id.slice(5));
    if (it && !it.readAt) { it.readAt = new Date().toISOString(); render(it); }
  });

  const fromHash = new URLSearchParams(location.hash.slice(1)).get('token');
  if (fromHash) { $('token').value = fromHash; $('connect').requestSubmit(); }
})();
</script>
</body>
</html>
`;
