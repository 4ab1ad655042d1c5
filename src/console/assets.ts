/**
 * The console page: one HTML document, one stylesheet and one script, served as separate files so
 * the Content-Security-Policy allows no inline script or style. The script renders every value
 * with `textContent` and `createElement` (never `innerHTML`): the log holds strings an IdP — or an
 * attacker with a token — chose.
 * @module
 */

/** The HTML shell (no data in it: data comes from the JSON endpoints, with the token). */
export const CONSOLE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>SCIM provisioning console</title>
<link rel="stylesheet" href="console.css">
<script src="console.js" defer></script>
</head>
<body>
<header><h1>SCIM provisioning console</h1><button id="logout" type="button" hidden>Sign out</button></header>
<main>
<section id="login" hidden>
  <h2>Sign in</h2>
  <form id="login-form">
    <label for="token">Admin token</label>
    <input id="token" name="token" type="password" autocomplete="off" required>
    <button type="submit">Open the console</button>
  </form>
  <p class="hint">The token is kept in this tab's session storage and sent as a bearer token.</p>
  <p id="login-error" class="error" role="alert"></p>
</section>
<section id="app" hidden>
  <div class="bar">
    <label for="connection">Connection</label>
    <select id="connection"><option value="">All requests</option></select>
    <label><input id="failures" type="checkbox"> Failures only</label>
    <span id="status" class="muted" aria-live="polite"></span>
  </div>
  <section>
    <h2>Connections</h2>
    <table id="connections"><thead><tr><th>Id</th><th>Tenant</th><th>Created</th><th>Last used</th><th>State</th></tr></thead><tbody></tbody></table>
  </section>
  <section class="charts">
    <div><h2>Requests per hour by IdP</h2><div id="chart-idp" class="chart"></div></div>
    <div><h2>Errors per hour by type</h2><div id="chart-errors" class="chart"></div></div>
  </section>
  <section>
    <h2>Requests <span class="muted">(newest first, refreshed every few seconds)</span></h2>
    <table id="requests"><thead><tr><th>Time</th><th>IdP</th><th>Method</th><th>Path</th><th>Status</th><th>Error</th><th>ms</th><th>Resources</th></tr></thead><tbody></tbody></table>
    <button id="more" type="button" hidden>Older requests</button>
    <div id="detail" class="detail" hidden></div>
  </section>
  <section>
    <h2>A user's or group's history</h2>
    <form id="history-form" class="bar">
      <label for="history-tenant">Tenant</label><input id="history-tenant" value="default">
      <label for="history-id">Resource id</label><input id="history-id" required>
      <button type="submit">Show history</button>
    </form>
    <ol id="history"></ol>
  </section>
  <section>
    <h2>Event deliveries: pending and failed</h2>
    <table id="deliveries"><thead><tr><th>Created</th><th>Type</th><th>Resource</th><th>State</th><th>Attempts</th><th>Next attempt</th><th>Last error</th></tr></thead><tbody></tbody></table>
  </section>
</main>
</body>
</html>
`

/** The stylesheet. */
export const CONSOLE_CSS = `body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{display:flex;justify-content:space-between;align-items:center;padding:.6rem 1rem;background:#1d2330;color:#fff}
header h1{font-size:1.1rem;margin:0}
main{padding:1rem;max-width:1400px}
section{margin-bottom:1.2rem}
h2{font-size:1rem;margin:.4rem 0}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{border-bottom:1px solid #e3e6eb;padding:.25rem .4rem;text-align:left;vertical-align:top;overflow-wrap:anywhere}
td:first-child,td.status{white-space:nowrap}
tr.fail td{background:#fdecec}
tr.fail td.status{color:#b00020;font-weight:600}
tbody tr{cursor:pointer}
.bar{display:flex;gap:.5rem;align-items:center;flex-wrap:wrap;margin-bottom:.6rem}
.muted{color:#69707d;font-weight:normal}
.error{color:#b00020}
.hint{color:#69707d}
.charts{display:grid;grid-template-columns:1fr 1fr;gap:1rem}
.chart{background:#fff;min-height:160px}
.legend span{margin-right:.8rem}
.detail{background:#fff;border:1px solid #e3e6eb;padding:.6rem;margin-top:.6rem}
pre{white-space:pre-wrap;word-break:break-all;background:#f0f2f5;padding:.4rem;margin:.2rem 0}
#history li{margin-bottom:.4rem}
#history li.fail{color:#b00020}
.state-dead{color:#b00020;font-weight:600}
.state-pending{color:#9a6700}
`

/** The script (plain browser JavaScript, no build step). */
export const CONSOLE_JS = `'use strict'
;(function () {
  var KEY = 'scim-console-token'
  var SVG = 'http://www.w3.org/2000/svg'
  var COLORS = ['#3366cc', '#dc3912', '#ff9900', '#109618', '#990099', '#0099c6', '#dd4477', '#66aa00']
  var state = { connection: '', failures: false, next: undefined, timer: undefined, statsAt: 0, connections: [] }
  function $(id) { return document.getElementById(id) }
  function el(tag, text, cls) {
    var e = document.createElement(tag)
    if (text !== undefined && text !== null) e.textContent = String(text)
    if (cls) e.className = cls
    return e
  }
  function token() { return sessionStorage.getItem(KEY) }
  function api(path) {
    return fetch('api/' + path, { headers: { Authorization: 'Bearer ' + token(), Accept: 'application/json' }, credentials: 'omit', cache: 'no-store' }).then(function (r) {
      if (r.status === 401) { signOut('The token was not accepted.'); throw new Error('unauthorized') }
      if (!r.ok) throw new Error('HTTP ' + r.status)
      return r.json()
    })
  }
  function qs(o) {
    var p = new URLSearchParams()
    Object.keys(o).forEach(function (k) { if (o[k] !== undefined && o[k] !== '') p.set(k, o[k]) })
    return p.toString()
  }
  function time(iso) { return iso ? new Date(iso).toISOString().replace('T', ' ').slice(0, 19) : '' }
  function signOut(message) {
    sessionStorage.removeItem(KEY)
    if (state.timer) clearInterval(state.timer)
    $('app').hidden = true
    $('logout').hidden = true
    $('login').hidden = false
    $('login-error').textContent = message || ''
  }
  function selected() {
    var c = state.connections.filter(function (x) { return x.id === state.connection })[0]
    return c ? { connectionId: c.id, tenant: c.tenant } : {}
  }
  function loadConnections() {
    return api('connections').then(function (list) {
      state.connections = list
      var body = $('connections').tBodies[0]
      body.replaceChildren()
      var select = $('connection')
      var keep = select.value
      while (select.options.length > 1) select.remove(1)
      list.forEach(function (c) {
        var tr = el('tr')
        ;[c.id, c.tenant, time(c.createdAt), time(c.lastUsedAt), c.revokedAt ? 'revoked ' + time(c.revokedAt) : 'active'].forEach(function (v) { tr.appendChild(el('td', v)) })
        tr.addEventListener('click', function () { select.value = c.id; select.dispatchEvent(new Event('change')) })
        body.appendChild(tr)
        var o = el('option', c.tenant + ' (' + c.id + ')')
        o.value = c.id
        select.appendChild(o)
      })
      select.value = keep
    })
  }
  function row(e) {
    var tr = el('tr', undefined, e.status >= 400 ? 'fail' : '')
    tr.appendChild(el('td', time(e.at)))
    tr.appendChild(el('td', e.idp))
    tr.appendChild(el('td', e.method))
    tr.appendChild(el('td', e.path))
    tr.appendChild(el('td', e.status, 'status'))
    tr.appendChild(el('td', e.status >= 400 ? (e.errorType || '') + (e.detail ? ': ' + e.detail : '') : ''))
    tr.appendChild(el('td', e.durationMs))
    tr.appendChild(el('td', e.resourceIds.join(' ')))
    tr.addEventListener('click', function () { showDetail(e) })
    return tr
  }
  function showDetail(e) {
    var d = $('detail')
    d.replaceChildren()
    d.appendChild(el('h3', e.method + ' ' + e.path + ' → ' + e.status))
    var dl = el('dl')
    ;[['Correlation id', e.correlationId], ['Tenant', e.tenant], ['Connection', e.connectionId], ['User-Agent', e.userAgent], ['scimType', e.scimType], ['Detail', e.detail]].forEach(function (kv) {
      if (kv[1] === null || kv[1] === undefined) return
      dl.appendChild(el('dt', kv[0]))
      dl.appendChild(el('dd', kv[1]))
    })
    d.appendChild(dl)
    d.appendChild(el('h4', 'Request body'))
    d.appendChild(el('pre', pretty(e.requestBody)))
    d.appendChild(el('h4', 'Response body'))
    d.appendChild(el('pre', pretty(e.responseBody)))
    e.resourceIds.forEach(function (id) {
      var b = el('button', 'History of ' + id)
      b.type = 'button'
      b.addEventListener('click', function () { $('history-tenant').value = e.tenant || 'default'; $('history-id').value = id; loadHistory() })
      d.appendChild(b)
    })
    d.hidden = false
  }
  function pretty(text) {
    if (text === null || text === undefined) return '(none)'
    try { return JSON.stringify(JSON.parse(text), null, 2) } catch (err) { return text }
  }
  function byConnection() {
    return state.connection ? { connectionId: state.connection } : {}
  }
  function filters() {
    var f = byConnection()
    if (state.failures) f.status = 'error'
    return f
  }
  function loadRequests(older) {
    var f = filters()
    if (older && state.next) f.cursor = state.next
    return api('requests?' + qs(f)).then(function (page) {
      var body = $('requests').tBodies[0]
      if (!older) body.replaceChildren()
      page.entries.forEach(function (e) { body.appendChild(row(e)) })
      state.next = page.next
      $('more').hidden = !page.next
      $('status').textContent = 'Updated ' + new Date().toLocaleTimeString()
    })
  }
  function chart(container, buckets, keyOf) {
    container.replaceChildren()
    var hours = []
    var keys = []
    var counts = {}
    buckets.forEach(function (b) {
      var k = keyOf(b)
      if (k === null) return
      if (hours.indexOf(b.hour) < 0) hours.push(b.hour)
      if (keys.indexOf(k) < 0) keys.push(k)
      counts[b.hour + '|' + k] = (counts[b.hour + '|' + k] || 0) + b.count
    })
    if (hours.length === 0) { container.appendChild(el('p', 'Nothing in the last 24 hours.', 'muted')); return }
    hours.sort(function (a, b) { return a - b })
    var max = 1
    hours.forEach(function (h) { var t = 0; keys.forEach(function (k) { t += counts[h + '|' + k] || 0 }); if (t > max) max = t })
    var W = 600, H = 140, bw = Math.max(4, Math.floor((W - 40) / Math.max(hours.length, 1)) - 2)
    var svg = document.createElementNS(SVG, 'svg')
    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + (H + 20))
    svg.setAttribute('width', '100%')
    svg.setAttribute('role', 'img')
    hours.forEach(function (h, i) {
      var y = H
      keys.forEach(function (k, j) {
        var n = counts[h + '|' + k] || 0
        if (!n) return
        var bh = Math.max(1, Math.round((n / max) * (H - 10)))
        y -= bh
        var r = document.createElementNS(SVG, 'rect')
        r.setAttribute('x', String(40 + i * (bw + 2)))
        r.setAttribute('y', String(y))
        r.setAttribute('width', String(bw))
        r.setAttribute('height', String(bh))
        r.setAttribute('fill', COLORS[j % COLORS.length])
        var t = document.createElementNS(SVG, 'title')
        t.textContent = new Date(h).toISOString().slice(0, 13) + ':00 ' + k + ': ' + n
        r.appendChild(t)
        svg.appendChild(r)
      })
    })
    var label = document.createElementNS(SVG, 'text')
    label.setAttribute('x', '0')
    label.setAttribute('y', '12')
    label.setAttribute('font-size', '11')
    label.textContent = String(max)
    svg.appendChild(label)
    container.appendChild(svg)
    var legend = el('div', undefined, 'legend')
    keys.forEach(function (k, j) {
      var s = el('span', '■ ' + k)
      s.setAttribute('data-key', k)
      legend.appendChild(s)
      s.style.color = COLORS[j % COLORS.length]
    })
    container.appendChild(legend)
  }
  function loadStats() {
    return api('stats?' + qs(byConnection())).then(function (buckets) {
      chart($('chart-idp'), buckets, function (b) { return b.idp })
      chart($('chart-errors'), buckets, function (b) { return b.errorType })
    })
  }
  function loadDeliveries() {
    var f = selected()
    return api('deliveries?' + qs({ tenant: f.tenant || '' })).then(function (list) {
      var body = $('deliveries').tBodies[0]
      body.replaceChildren()
      if (list.length === 0) { var tr = el('tr'); var td = el('td', 'No pending or failed deliveries.', 'muted'); td.colSpan = 7; tr.appendChild(td); body.appendChild(tr) }
      list.forEach(function (e) {
        var tr = el('tr')
        ;[time(e.createdAt), e.type, e.resourceType + ' ' + e.resourceId].forEach(function (v) { tr.appendChild(el('td', v)) })
        tr.appendChild(el('td', e.state, 'state-' + e.state))
        ;[e.attempts, time(e.nextAttemptAt), e.lastError || ''].forEach(function (v) { tr.appendChild(el('td', v)) })
        body.appendChild(tr)
      })
    })
  }
  function loadHistory() {
    var id = $('history-id').value.trim()
    if (!id) return Promise.resolve()
    return api('history?' + qs({ tenant: $('history-tenant').value.trim() || 'default', id: id })).then(function (h) {
      var list = $('history')
      list.replaceChildren()
      if (h.items.length === 0) list.appendChild(el('li', 'Nothing recorded for this id.', 'muted'))
      h.items.forEach(function (item) {
        if (item.kind === 'request') {
          var r = item.request
          var li = el('li', time(item.at) + ' request ' + r.method + ' ' + r.path + ' → ' + r.status + (r.status >= 400 ? ' ' + (r.errorType || '') + (r.detail ? ': ' + r.detail : '') : ''), r.status >= 400 ? 'fail' : '')
          li.setAttribute('data-kind', 'request')
          li.addEventListener('click', function () { showDetail(r) })
          list.appendChild(li)
        } else {
          var e = item.event
          var li2 = el('li', time(item.at) + ' event ' + e.type + ' (' + e.resourceType + ' ' + e.resourceId + ') ')
          li2.setAttribute('data-kind', 'event')
          li2.appendChild(el('span', e.state + (e.attempts ? ', ' + e.attempts + ' attempt(s)' : '') + (e.lastError ? ', last error: ' + e.lastError : ''), 'state-' + e.state))
          list.appendChild(li2)
        }
      })
      if (!h.complete) list.appendChild(el('li', 'Older items are not shown.', 'muted'))
    })
  }
  function refresh() {
    var jobs = [loadRequests(false), loadDeliveries()]
    if (Date.now() - state.statsAt > 30000) { state.statsAt = Date.now(); jobs.push(loadStats()) }
    return Promise.all(jobs).catch(function (err) { if (err.message !== 'unauthorized') $('status').textContent = 'Refresh failed: ' + err.message })
  }
  function start() {
    $('login').hidden = true
    $('app').hidden = false
    $('logout').hidden = false
    state.statsAt = 0
    loadConnections().then(refresh).then(function () {
      if (state.timer) clearInterval(state.timer)
      state.timer = setInterval(refresh, 3000)
    }).catch(function (err) { if (err.message !== 'unauthorized') $('status').textContent = 'Load failed: ' + err.message })
  }
  document.addEventListener('DOMContentLoaded', function () {
    $('login-form').addEventListener('submit', function (ev) {
      ev.preventDefault()
      sessionStorage.setItem(KEY, $('token').value)
      $('token').value = ''
      start()
    })
    $('logout').addEventListener('click', function () { signOut('') })
    $('connection').addEventListener('change', function () {
      state.connection = $('connection').value
      var c = selected()
      if (c.tenant) $('history-tenant').value = c.tenant
      state.statsAt = 0
      refresh()
    })
    $('failures').addEventListener('change', function () { state.failures = $('failures').checked; refresh() })
    $('more').addEventListener('click', function () { loadRequests(true) })
    $('history-form').addEventListener('submit', function (ev) { ev.preventDefault(); loadHistory().catch(function () {}) })
    if (token()) start()
    else signOut('')
  })
})()
`
