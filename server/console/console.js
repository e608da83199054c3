// m2mdm web console (docs/console.md). Plain JavaScript, no framework, nothing fetched from
// elsewhere: every view reads this server's public REST API (/api/v1) with the bearer token the
// user signed in with (kept in sessionStorage only); the charts poll the server's own /metrics.
// The server decides what a token may see: a 403 or 404 is shown as such, never hidden.
'use strict';

(() => {
  const TOKEN_KEY = 'm2mdm.console.token';
  const PAGE = 25;            // rows per page of every listing
  const POLL_MS = 2000;       // /metrics polling period of the charts
  const HISTORY = 90;         // samples kept per chart series (3 minutes)
  const DEVICE_STATES = ['imported', 'bootstrapped', 'registered', 'provisioning', 'provisioned', 'failed'];
  const JOB_STATES = ['queued', 'notified', 'delivering', 'delivered', 'awaiting_result', 'succeeded', 'failed',
    'expired', 'cancelled'];
  const SVG_NS = 'http://www.w3.org/2000/svg';

  let me = null;              // GET /api/v1/whoami of the signed-in token
  let pollTimer = null;
  const samples = [];         // {t, counters: Map} from /metrics

  // ---------------------------------------------------------------- DOM helpers (no innerHTML)
  const byId = (id) => document.getElementById(id);

  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'text') e.textContent = String(v);
      else if (k === 'onclick') e.addEventListener('click', v);
      else if (k === 'onsubmit') e.addEventListener('submit', v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const kid of kids.flat(Infinity)) {
      if (kid === null || kid === undefined || kid === false) continue;
      e.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
    }
    return e;
  }

  function svg(tag, attrs) {
    const e = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'text') e.textContent = String(v);
      else e.setAttribute(k, String(v));
    }
    return e;
  }

  function time(s) {
    if (!s) return 'never';
    return new Date(s * 1000).toISOString().replace('T', ' ').slice(0, 19) + ' UTC';
  }

  function table(id, headers, rows, empty) {
    if (!rows.length) return el('p', { id, class: 'empty', text: empty || 'Nothing to show.' });
    return el('table', { id },
      el('thead', {}, el('tr', {}, headers.map((h) => el('th', { text: h })))),
      el('tbody', {}, rows));
  }

  function setMessage(text, kind) {
    const m = byId('message');
    m.textContent = text || '';
    m.className = kind || '';
  }

  // ---------------------------------------------------------------- the REST API
  function token() { return sessionStorage.getItem(TOKEN_KEY) || ''; }

  /** One call of the REST API: {status, ok, data} (data: the parsed JSON body, or null). */
  async function api(method, path, body) {
    const headers = { Accept: 'application/json', Authorization: 'Bearer ' + token() };
    const init = { method, headers, cache: 'no-store', credentials: 'omit' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let r;
    try {
      r = await fetch(path, init);
    } catch (e) {
      return { status: 0, ok: false, data: { error: 'network error', detail: String(e) } };
    }
    const text = await r.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = { error: text }; }
    if (r.status === 401 && me) signOut('The server no longer accepts this token (401).');
    return { status: r.status, ok: r.ok, data };
  }

  /** What a failed answer means, in words. */
  function problem(res, what) {
    const detail = res.data && (res.data.detail || res.data.message || res.data.error);
    if (res.status === 403) return `${what}: not allowed for this token (403)${detail ? ' — ' + detail : ''}.`;
    if (res.status === 404) return `${what}: not found (404) — unknown, or not visible to this token.`;
    if (res.status === 409) return `${what}: refused (409) — ${detail || 'conflict'}.`;
    if (res.status === 0) return `${what}: the server cannot be reached.`;
    return `${what}: HTTP ${res.status}${detail ? ' — ' + detail : ''}.`;
  }

  function errorBox(res, what) {
    return el('p', { class: 'error', id: 'error', text: problem(res, what) });
  }

  // ---------------------------------------------------------------- sign in / out
  async function signIn(t) {
    sessionStorage.setItem(TOKEN_KEY, t);
    const res = await api('GET', '/api/v1/whoami');
    if (!res.ok) {
      sessionStorage.removeItem(TOKEN_KEY);
      showSignIn(res.status === 401 ? 'The server refused this token (401).' : problem(res, 'Sign in'));
      return;
    }
    me = res.data;
    setupNav();
    startPolling();
    if (!location.hash || location.hash === '#/' || location.hash === '#') location.hash = '#/devices';
    else route();
  }

  function signOut(why) {
    sessionStorage.removeItem(TOKEN_KEY);
    me = null;
    if (pollTimer) clearInterval(pollTimer);
    pollTimer = null;
    samples.length = 0;
    showSignIn(why || 'Signed out.');
  }

  function showSignIn(why) {
    byId('signin').hidden = false;
    byId('view').hidden = true;
    byId('nav').hidden = true;
    byId('signout').hidden = true;
    byId('who').textContent = '';
    byId('token').value = '';
    setMessage(why || '', why ? 'notice' : '');
  }

  function can(role) { return me && me.role === role; }
  const isOperator = () => can('operator');
  const isSho = () => can('sho');

  function setupNav() {
    byId('signin').hidden = true;
    byId('view').hidden = false;
    byId('signout').hidden = false;
    byId('nav').hidden = false;
    const label = me.role === 'sho' ? `SHO ${me.name || ''} (#${me.shoId})`
      : me.role === 'subscriber' ? `subscriber ${me.name || ''} (#${me.subscriberId})` : me.role;
    byId('who').textContent = 'signed in as ' + label;
    byId('nav-devices').hidden = me.role === 'vno';
    byId('nav-jobs').hidden = !(isOperator() || isSho());
    byId('nav-changes').hidden = !(isOperator() || isSho());
    byId('nav-audit').hidden = !isOperator();
  }

  // ---------------------------------------------------------------- routing (#/view?params)
  function parseHash() {
    const h = location.hash.replace(/^#\/?/, '');
    const q = h.indexOf('?');
    const path = q < 0 ? h : h.slice(0, q);
    const params = new URLSearchParams(q < 0 ? '' : h.slice(q + 1));
    const [view, ...rest] = path.split('/');
    return { view: view || 'devices', arg: rest.length ? decodeURIComponent(rest.join('/')) : '', params };
  }

  function go(view, params) {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(params || {})) if (v !== '' && v !== undefined && v !== null) p.set(k, v);
    const qs = p.toString();
    location.hash = '#/' + view + (qs ? '?' + qs : '');
  }

  async function route() {
    if (!me) return;
    const { view, arg, params } = parseHash();
    for (const a of byId('nav').querySelectorAll('a')) a.classList.toggle('active', a.id === 'nav-' + view);
    setMessage('');
    const v = byId('view');
    v.replaceChildren(el('p', { class: 'loading', text: 'Loading…' }));
    let content;
    if (me.role === 'vno') content = [el('p', { class: 'notice', text: 'A VNO token reaches the ICF only: the console has no view for it.' })];
    else if (view === 'device') content = await deviceView(arg);
    else if (view === 'jobs') content = await jobsView(params);
    else if (view === 'changes') content = await changesView(params);
    else if (view === 'audit') content = await auditView(params);
    else if (view === 'charts') content = chartsView();
    else content = await devicesView(params);
    v.replaceChildren(...content);
    v.dataset.view = view;
    if (view === 'charts') drawCharts();
  }

  function pager(view, params, next) {
    const first = params.get('after');
    return el('p', { class: 'pager' },
      first ? el('a', { href: '#', id: 'first-page', onclick: (e) => { e.preventDefault(); const p = Object.fromEntries(params); delete p.after; go(view, p); }, text: '« First page' }) : null,
      next !== undefined && next !== null
        ? el('a', { href: '#', id: 'next-page', onclick: (e) => { e.preventDefault(); go(view, { ...Object.fromEntries(params), after: next }); }, text: 'Next page »' })
        : null);
  }

  function limitQuery(params, extra) {
    const p = new URLSearchParams(extra || {});
    p.set('limit', String(PAGE));
    if (params.get('after')) p.set('after', params.get('after'));
    return p.toString();
  }

  // ---------------------------------------------------------------- devices
  function pvaText(d) {
    if (!d.pfcValidation) return d.hasPfc ? 'not validated' : '—';
    return d.pfcValidation.valid ? 'valid' : 'invalid: ' + (d.pfcValidation.reason || '');
  }

  function deviceLink(devId) {
    return el('a', { href: '#/device/' + encodeURIComponent(devId), class: 'devlink', text: devId });
  }

  async function devicesView(params) {
    const q = params.get('q') || '', state = params.get('state') || '', sho = params.get('shoId') || '';
    const form = el('form', { id: 'device-search', class: 'filters', onsubmit: (e) => {
      e.preventDefault();
      go('devices', { q: byId('q').value.trim(), state: byId('state').value, shoId: byId('sho-filter') ? byId('sho-filter').value.trim() : '' });
    } },
    el('label', { for: 'q', text: 'DevId prefix, or PCID/IMSI' }),
    el('input', { id: 'q', name: 'q', value: q, placeholder: 'IMEI:35… or 00101…', spellcheck: 'false' }),
    el('label', { for: 'state', text: 'State' }),
    el('select', { id: 'state', name: 'state' }, el('option', { value: '', text: 'any' }),
      DEVICE_STATES.map((s) => el('option', { value: s, text: s, selected: s === state }))),
    isOperator() ? [el('label', { for: 'sho-filter', text: 'SHO id' }),
      el('input', { id: 'sho-filter', name: 'shoId', value: sho, size: 4, inputmode: 'numeric' })] : null,
    el('button', { type: 'submit', id: 'search', text: 'Search' }));
    const extra = {};
    if (q) extra.q = q;
    if (state) extra.state = state;
    if (sho) extra.shoId = sho;
    const res = await api('GET', '/api/v1/devices?' + limitQuery(params, extra));
    if (!res.ok) return [el('h1', { text: 'Devices' }), form, errorBox(res, 'Devices')];
    const rows = res.data.devices.map((d) => el('tr', { 'data-devid': d.devId },
      el('td', {}, deviceLink(d.devId)), el('td', { text: d.pcid }), el('td', { class: 'state-' + d.state, text: d.state }),
      el('td', { text: d.shoId !== undefined ? '#' + d.shoId : '—' }), el('td', { text: time(d.lastSeen) }),
      el('td', { text: pvaText(d) })));
    return [el('h1', { text: 'Devices' }), form,
      table('devices', ['DevId', 'PCID (IMSI)', 'State', 'SHO', 'Last seen', 'PVA verdict'], rows, 'No device matches.'),
      pager('devices', params, res.data.next)];
  }

  // ---------------------------------------------------------------- one device
  function jobTimeline(j) {
    const parts = [`created ${time(j.created)}`];
    if (j.attempts) parts.push(`${j.attempts} delivery attempt${j.attempts > 1 ? 's' : ''}`);
    if (j.result) parts.push(`result ${j.result.code} at ${time(j.result.at)}${j.result.message ? ' (' + j.result.message + ')' : ''}`);
    else if (j.updated !== j.created) parts.push(`${j.state} at ${time(j.updated)}`);
    if (j.deadline) parts.push(`deadline ${time(j.deadline)}`);
    return parts.join(' → ');
  }

  function jobActions(j, after) {
    const out = [];
    const mayAct = !can('subscriber') || j.kind === 'activate' || j.kind === 'deactivate';
    if (!mayAct) return out;
    if (j.state === 'queued' || j.state === 'notified')
      out.push(el('button', { type: 'button', class: 'cancel', 'data-job': j.id, text: 'Cancel',
        onclick: () => jobAction('DELETE', `/api/v1/jobs/${j.id}`, `Cancel job ${j.id}`, after) }));
    if (j.state === 'failed' || j.state === 'expired' || j.state === 'cancelled')
      out.push(el('button', { type: 'button', class: 'retry', 'data-job': j.id, text: 'Retry',
        onclick: () => jobAction('POST', `/api/v1/jobs/${j.id}/retry`, `Retry job ${j.id}`, after) }));
    return out;
  }

  async function jobAction(method, path, what, after) {
    const res = await api(method, path);
    const text = res.ok ? `${what}: done (${res.status}) — job ${res.data.id} is ${res.data.state}.` : problem(res, what);
    if (after) await after();  // the list again, then the outcome (a re-rendered view has a new box)
    const box = byId('action-result');
    if (box) { box.textContent = text; box.className = res.ok ? 'ok' : 'error'; } else setMessage(text, res.ok ? 'ok' : 'error');
  }

  function jobRow(j, withDevice, after) {
    return el('tr', { 'data-job': j.id, 'data-state': j.state },
      el('td', { text: j.id }), withDevice ? el('td', {}, deviceLink(j.devId)) : null,
      el('td', { text: j.kind }), el('td', { class: 'state-' + j.state, text: j.state }),
      el('td', { text: j.attempts }), el('td', { class: 'code', text: j.result ? j.result.code : '—' }),
      el('td', { class: 'timeline', text: jobTimeline(j) }), el('td', {}, jobActions(j, after)));
  }

  /** A section that lists pages of @p path's @p key array, with a "More" button for the next page. */
  function moreList(id, title, path, key, headers, toRow, empty) {
    const section = el('section', { id: id + '-section' }, el('h2', { text: title }));
    const holder = el('div', {});
    section.append(holder);
    let rows = [];
    const load = async (after, reset) => {
      const res = await api('GET', `${path}${path.includes('?') ? '&' : '?'}limit=${PAGE}${after ? '&after=' + encodeURIComponent(after) : ''}`);
      if (!res.ok) { holder.replaceChildren(errorBox(res, title)); return; }
      if (reset) rows = [];
      rows = rows.concat(res.data[key].map(toRow));
      const kids = [table(id, headers, rows, empty)];
      if (res.data.next !== undefined) kids.push(el('button', { type: 'button', class: 'more', text: 'More', onclick: () => load(res.data.next, false) }));
      holder.replaceChildren(...kids);
    };
    section.reload = () => load('', true);
    return section;
  }

  async function deviceView(devId) {
    const res = await api('GET', '/api/v1/devices/' + encodeURIComponent(devId));
    if (!res.ok) return [el('h1', { text: 'Device ' + devId }), errorBox(res, 'Device ' + devId)];
    const d = res.data;
    const enc = encodeURIComponent(devId);
    const fields = [['DevId', d.devId], ['PCID (IMSI)', d.pcid], ['State', d.state],
      ['SHO', d.shoId !== undefined ? '#' + d.shoId : '—'], ['Subscriber', d.subscriberId !== undefined ? '#' + d.subscriberId : '—'],
      ['Last seen', time(d.lastSeen)], ['DPF address', d.dpfAddress], ['Push address', d.pushAddress || '—'],
      ['SEC method', d.secMethod], ['Created', time(d.created)], ['Updated', time(d.updated)]];
    const dl = el('dl', { id: 'device' }, fields.map(([k, v]) => [el('dt', { text: k }), el('dd', { text: v })]));
    const pva = d.pfcValidation
      ? el('p', { id: 'pva', class: d.pfcValidation.valid ? 'ok' : 'error',
        text: `PVA verdict: ${d.pfcValidation.valid ? 'valid' : 'invalid'} — ${d.pfcValidation.reason || ''}` +
          ` (subject ${d.pfcValidation.subject || '?'}, validated ${time(d.pfcValidation.validatedAt)})` })
      : el('p', { id: 'pva', text: d.hasPfc ? 'PVA verdict: the PfC was reported but not validated yet.' : 'PVA verdict: no PfC reported yet.' });

    const sections = [];
    const boot = moreList('bootstraps', 'Bootstrap history', `/api/v1/devices/${enc}/bootstraps`, 'bootstraps',
      ['Id', 'Issued', 'By', 'SEC method', 'Delivery', 'Kind', 'Active'],
      (b) => el('tr', {}, el('td', { text: b.id }), el('td', { text: time(b.issued) }), el('td', { text: b.actor }),
        el('td', { text: b.secMethod }), el('td', { text: b.delivery }), el('td', { text: b.rebootstrap ? 're-bootstrap' : 'bootstrap' }),
        el('td', { text: b.active ? 'yes' : 'no' })), 'No bootstrap issued yet.');
    const jobs = moreList('jobs', 'Jobs', `/api/v1/devices/${enc}/jobs`, 'jobs',
      ['Id', 'Kind', 'State', 'Attempts', 'Result code', 'Timeline', ''],
      (j) => jobRow(j, false, () => jobs.reload()), 'No job for this device.');
    sections.push(boot, jobs);
    let cmds = null;
    if (isOperator() || isSho()) {
      cmds = moreList('commands', 'Management commands', `/api/v1/devices/${enc}/commands`, 'commands',
        ['Id', 'State', 'Commands', 'Status codes', 'Created'],
        (c) => el('tr', {}, el('td', { text: c.id }), el('td', { class: 'state-' + c.state, text: c.state }),
          el('td', { text: (c.commands || c.ops || []).map((o) => `${o.verb} ${o.target}`).join(', ') }),
          el('td', { class: 'code', text: (c.statuses || []).map((s) => `${s.cmd} ${s.code}`).join(', ') || '—' }),
          el('td', { text: time(c.created) })), 'No management command for this device.');
      sections.push(cmds);
    }
    const changesRes = await api('GET', `/api/v1/devices/${enc}/operator-changes`);
    const changes = el('section', { id: 'device-changes-section' }, el('h2', { text: 'Operator changes' }),
      changesRes.ok ? changeTable('device-changes', changesRes.data.operatorChanges) : errorBox(changesRes, 'Operator changes'));
    sections.push(changes);

    const actions = el('div', { class: 'actions' });
    if (isOperator() || isSho()) {
      actions.append(el('button', { type: 'button', id: 'rebootstrap', text: 'Re-bootstrap', onclick: async () => {
        const r = await api('POST', `/api/v1/devices/${enc}/bootstrap`, { rebootstrap: true });
        const box = byId('action-result');
        box.textContent = r.ok
          ? `Re-bootstrap: accepted (${r.status}) — bootstrap ${r.data.bootstrapId} (${r.data.secMethod}) issued by ${r.data.delivery}` +
            (r.data.pushAddress ? ' to ' + r.data.pushAddress : '') + '.'
          : problem(r, 'Re-bootstrap');
        box.className = r.ok ? 'ok' : 'error';
        await boot.reload();
      } }));
    }
    actions.append(el('span', { id: 'action-result', role: 'status' }));
    await Promise.all(sections.filter((s) => s.reload).map((s) => s.reload()));
    return [el('h1', { text: 'Device ' + d.devId }), dl, pva, actions, ...sections];
  }

  function changeTable(id, list) {
    const rows = list.map((c) => el('tr', { 'data-change': c.id },
      el('td', { text: c.id }), el('td', {}, deviceLink(c.devId)), el('td', { text: c.variant }),
      el('td', { class: 'state-' + c.state, text: c.state }),
      el('td', { text: c.fromSho !== undefined ? '#' + c.fromSho : '—' }), el('td', { text: c.toSho !== undefined ? '#' + c.toSho : '—' }),
      el('td', { text: c.discarded ? (c.acknowledged ? 'discarded, acknowledged' : 'discarded') : '—' }),
      el('td', { class: 'code', text: c.resultCode ? c.resultCode : '—' }), el('td', { text: time(c.updated) })));
    return table(id, ['Id', 'Device', 'Variant', 'State', 'From SHO', 'To SHO', 'Discard', 'Result', 'Updated'], rows,
      'No operator change.');
  }

  // ---------------------------------------------------------------- jobs, changes, audit
  async function jobsView(params) {
    const state = params.get('state') || '';
    const form = el('form', { id: 'job-filter', class: 'filters', onsubmit: (e) => { e.preventDefault(); go('jobs', { state: byId('job-state').value }); } },
      el('label', { for: 'job-state', text: 'State' }),
      el('select', { id: 'job-state' }, el('option', { value: '', text: 'any' }),
        JOB_STATES.map((s) => el('option', { value: s, text: s, selected: s === state }))),
      el('button', { type: 'submit', text: 'Filter' }));
    const res = await api('GET', '/api/v1/jobs?' + limitQuery(params, state ? { state } : {}));
    if (!res.ok) return [el('h1', { text: 'Jobs' }), form, errorBox(res, 'Jobs')];
    const rows = res.data.jobs.map((j) => jobRow(j, true, route));
    return [el('h1', { text: 'Jobs (newest first)' }), form, el('span', { id: 'action-result', role: 'status' }),
      table('jobs', ['Id', 'Device', 'Kind', 'State', 'Attempts', 'Result code', 'Timeline', ''], rows, 'No job.'),
      pager('jobs', params, res.data.next)];
  }

  async function changesView(params) {
    const res = await api('GET', '/api/v1/operator-changes?' + limitQuery(params));
    if (!res.ok) return [el('h1', { text: 'Operator changes in progress' }), errorBox(res, 'Operator changes')];
    return [el('h1', { text: 'Operator changes in progress' }), changeTable('changes', res.data.operatorChanges),
      pager('changes', params, res.data.next)];
  }

  async function auditView(params) {
    const res = await api('GET', '/api/v1/audit?' + limitQuery(params));
    if (!res.ok) return [el('h1', { text: 'Audit log' }), errorBox(res, 'Audit log')];
    const rows = res.data.audit.map((a) => el('tr', { 'data-action': a.action },
      el('td', { text: a.id }), el('td', { text: time(a.at) }), el('td', { text: a.actor }), el('td', { text: a.action }),
      el('td', { text: a.subject }), el('td', { text: a.detail })));
    return [el('h1', { text: 'Audit log (newest first)' }),
      table('audit', ['Id', 'At', 'Actor', 'Action', 'Subject', 'Detail'], rows, 'The audit log is empty.'),
      pager('audit', params, res.data.next)];
  }

  // ---------------------------------------------------------------- live charts from /metrics
  /** Prometheus text format: "name{labels} value" lines -> Map(name{labels} -> number). */
  function parseMetrics(text) {
    const m = new Map();
    for (const line of text.split('\n')) {
      if (!line || line.startsWith('#')) continue;
      const sp = line.lastIndexOf(' ');
      const v = Number(line.slice(sp + 1));
      if (sp > 0 && Number.isFinite(v)) m.set(line.slice(0, sp), v);
    }
    return m;
  }

  function sum(counters, pred) {
    let s = 0;
    for (const [k, v] of counters) if (pred(k)) s += v;
    return s;
  }

  async function poll() {
    let text;
    try {
      const r = await fetch('/metrics', { cache: 'no-store', credentials: 'omit' });
      if (!r.ok) return;
      text = await r.text();
    } catch (e) {
      return;
    }
    samples.push({ t: Date.now() / 1000, counters: parseMetrics(text) });
    if (samples.length > HISTORY) samples.shift();
    if (parseHash().view === 'charts' && byId('charts')) drawCharts();
  }

  function startPolling() {
    if (pollTimer) return;
    poll();
    pollTimer = setInterval(poll, POLL_MS);
  }

  const value = (c, name) => c.get(name) || 0;
  const http5xx = (c) => sum(c, (k) => k.startsWith('m2mdm_http_requests_total{') && /status="5\d\d"/.test(k));

  /** Per-second rate of f(counters) between consecutive samples. */
  function rate(f) {
    const pts = [];
    for (let i = 1; i < samples.length; i++) {
      const dt = samples[i].t - samples[i - 1].t;
      if (dt > 0) pts.push([samples[i].t, Math.max(0, (f(samples[i].counters) - f(samples[i - 1].counters)) / dt)]);
    }
    return pts;
  }
  const gauge = (f) => samples.map((s) => [s.t, f(s.counters)]);

  const CHARTS = [
    { id: 'chart-sessions', title: 'DM sessions per second', series: () => [
      { name: 'started', points: rate((c) => value(c, 'm2mdm_dm_sessions_started_total')) },
      { name: 'completed', points: rate((c) => value(c, 'm2mdm_dm_sessions_completed_total')) }] },
    { id: 'chart-jobs', title: 'Job outcomes (jobs in each final state)', series: () =>
      ['succeeded', 'failed', 'expired', 'cancelled'].map((s) => ({ name: s, points: gauge((c) => value(c, `m2mdm_jobs{state="${s}"}`)) })) },
    { id: 'chart-errors', title: 'Errors per second', series: () => [
      { name: 'HTTP 5xx', points: rate(http5xx) },
      { name: 'DM auth failures', points: rate((c) => value(c, 'm2mdm_dm_auth_failures_total')) },
      { name: 'DM sessions aborted', points: rate((c) => value(c, 'm2mdm_dm_sessions_aborted_total')) }] },
  ];

  function chartsView() {
    return [el('h1', { text: 'Live charts' }),
      el('p', { class: 'note', text: `From this server's /metrics, polled every ${POLL_MS / 1000} s while signed in (last ${HISTORY} samples).` }),
      el('div', { id: 'charts' }, CHARTS.map((c) => el('figure', { class: 'chart' }, el('figcaption', { text: c.title }),
        el('div', { id: c.id, class: 'chart-body' }))))];
  }

  function drawCharts() {
    for (const c of CHARTS) {
      const holder = byId(c.id);
      if (holder) holder.replaceChildren(lineChart(c.series()));
    }
  }

  /** A line chart in plain SVG: one polyline and one circle per point per series, a y scale and a legend. */
  function lineChart(series) {
    const W = 560, H = 190, L = 48, R = 10, T = 10, B = 40;
    const s = svg('svg', { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img', class: 'linechart' });
    const all = series.flatMap((x) => x.points);
    const t1 = all.length ? Math.max(...all.map((p) => p[0])) : Date.now() / 1000;
    const t0 = Math.min(t1 - 10, ...all.map((p) => p[0]));
    const vmax = Math.max(1, ...all.map((p) => p[1])) * 1.1;
    const x = (t) => L + ((t - t0) / Math.max(1, t1 - t0)) * (W - L - R);
    const y = (v) => T + (1 - v / vmax) * (H - T - B);
    s.append(svg('line', { x1: L, y1: T, x2: L, y2: H - B, class: 'axis' }), svg('line', { x1: L, y1: H - B, x2: W - R, y2: H - B, class: 'axis' }));
    for (const v of [0, vmax / 2, vmax]) {
      s.append(svg('text', { x: L - 4, y: y(v) + 4, class: 'tick', 'text-anchor': 'end', text: v >= 10 ? v.toFixed(0) : v.toFixed(2) }));
    }
    s.append(svg('text', { x: W - R, y: H - B + 14, class: 'tick', 'text-anchor': 'end', text: 'now' }),
      svg('text', { x: L, y: H - B + 14, class: 'tick', text: `-${Math.round(t1 - t0)} s` }));
    series.forEach((se, i) => {
      if (se.points.length > 1)
        s.append(svg('polyline', { points: se.points.map((p) => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(' '), class: `line s${i}` }));
      for (const p of se.points) {
        s.append(svg('circle', { cx: x(p[0]).toFixed(1), cy: y(p[1]).toFixed(1), r: 2.5, class: `pt s${i}`, 'data-value': p[1] }));
      }
      const lx = L + i * 130;
      s.append(svg('rect', { x: lx, y: H - 14, width: 10, height: 10, class: `key s${i}` }),
        svg('text', { x: lx + 14, y: H - 5, class: 'legend', text: `${se.name}${se.points.length ? ' ' + fmt(se.points[se.points.length - 1][1]) : ''}` }));
    });
    if (!all.length) s.append(svg('text', { x: W / 2, y: H / 2, class: 'tick', 'text-anchor': 'middle', text: 'waiting for the next sample…' }));
    return s;
  }

  function fmt(v) { return Number.isInteger(v) ? String(v) : v.toFixed(2); }

  // ---------------------------------------------------------------- start
  document.addEventListener('DOMContentLoaded', () => {
    byId('signin-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const t = byId('token').value.trim();
      if (t) signIn(t);
    });
    byId('signout').addEventListener('click', () => { location.hash = ''; signOut('Signed out.'); });
    window.addEventListener('hashchange', route);
    if (token()) signIn(token());
    else showSignIn('');
  });
})();
