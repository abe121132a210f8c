/* netwatch survey form: readings are kept on the phone first, then sent.
 *
 * Every reading goes into a localStorage queue before any request, so a
 * dead network or a closed tab loses nothing. The queue is flushed on load, on the
 * browser's "online" event, on a timer and after each submission. A reading leaves the
 * queue only when the server stored it (201) or refused it for good (400, 409): those
 * move to a list the tester must look at. Everything else (401, 403, 413, 429, 5xx,
 * no network) keeps it queued and says why. The server is idempotent on
 * (tester, client_id), so sending a reading twice stores it once. The queue is kept per
 * tester (the server's name for them), so a phone passed to a colleague never sends one
 * tester's readings as another's, and a reissued token finds its holder's queue.
 */
'use strict';

(function () {
  const RETRY_MS = 20000;
  const meta = (name) => document.querySelector('meta[name="' + name + '"]').content;
  const csrf = meta('csrf-token');
  const tester = meta('tester');
  const QUEUE = 'netwatch.survey.queue.' + tester;
  const PROBLEMS = 'netwatch.survey.problems.' + tester;
  const LABELS = {
    point: '测试点', lat: '纬度', lon: '经度', datum: '坐标系', taken_at: '测量时间',
    technology: '制式', rssi_dbm: '接收电平 RSSI', ber: '误码率 BER', rsrp_dbm: 'RSRP',
    sinr_db: 'SINR', no_service: '无服务', serving_site: '服务基站', note: '备注',
    client_id: '读数编号', '': '读数',
  };
  const FIGURES = {
    pdt: [['rssi_dbm', true], ['ber', false]],
    broadband: [['rsrp_dbm', true], ['sinr_db', true]],
  };
  const $ = (id) => document.getElementById(id);
  let here = null; // {lat, lon, accuracy} in WGS-84, from the browser
  let pointsById = {};
  let flushing = false;
  let flushAgain = false;

  function load(key) {
    try {
      const value = JSON.parse(localStorage.getItem(key) || '[]');
      return Array.isArray(value) ? value : [];
    } catch (e) {
      return [];
    }
  }

  function save(key, list) {
    localStorage.setItem(key, JSON.stringify(list));
    render();
  }

  function newId() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' +
      h.slice(16, 20) + '-' + h.slice(20);
  }

  function isoWithOffset(d) {
    const pad = (n) => String(Math.floor(Math.abs(n))).padStart(2, '0');
    const offset = -d.getTimezoneOffset();
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + 'T' +
      pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds()) +
      (offset >= 0 ? '+' : '-') + pad(offset / 60) + ':' + pad(offset % 60);
  }

  function say(text, kind, link) {
    const box = $('status');
    box.textContent = text;
    box.className = 'msg ' + (kind || '');
    if (link) {
      const a = document.createElement('a');
      a.href = link.href;
      a.textContent = link.text;
      box.append(' ', a);
    }
    box.hidden = false;
  }

  function render() {
    const waiting = load(QUEUE).length;
    const pending = $('pending');
    pending.textContent = waiting + ' 条待发送';
    pending.dataset.count = String(waiting);
    pending.classList.toggle('some', waiting > 0);
    const problems = load(PROBLEMS);
    const list = $('problems');
    list.replaceChildren(...problems.map((p) => {
      const li = document.createElement('li');
      const what = document.createElement('div');
      what.textContent = p.label + ' · ' + p.reading.taken_at.slice(0, 19).replace('T', ' ') +
        ' · ' + figuresOf(p.reading);
      const why = document.createElement('div');
      why.className = 'problem';
      why.textContent = p.message;
      const ok = document.createElement('button');
      ok.type = 'button';
      ok.className = 'small';
      ok.textContent = '知道了';
      ok.addEventListener('click', () => {
        save(PROBLEMS, load(PROBLEMS).filter((q) => q.reading.client_id !== p.reading.client_id));
      });
      li.append(what, why, ok);
      return li;
    }));
    $('problems-box').hidden = problems.length === 0;
  }

  function figuresOf(reading) {
    if (reading.no_service) return LABELS.no_service;
    return FIGURES[reading.technology]
      .filter(([name]) => reading[name] !== undefined)
      .map(([name]) => LABELS[name] + ' ' + reading[name]).join('，');
  }

  function fieldErrors(body) {
    const rows = body && Array.isArray(body.detail) ? body.detail : [];
    const parts = rows.map((r) => (LABELS[r.field] || r.field) + '：' + r.reason);
    return parts.length ? parts.join('；') : (body && body.error) || '格式不对';
  }

  async function answerOf(resp) {
    try {
      return await resp.json();
    } catch (e) {
      return null;
    }
  }

  function dequeue(id) {
    save(QUEUE, load(QUEUE).filter((q) => q.reading.client_id !== id));
  }

  /* Send the queue in order; returns when it is empty or the server cannot take more now. */
  async function flush() {
    if (flushing) {
      flushAgain = true;
      return;
    }
    flushing = true;
    let sent = 0;
    let held = '';
    try {
      do {
        flushAgain = false;
        for (const item of load(QUEUE)) {
          let resp;
          try {
            resp = await fetch('/api/v1/readings', {
              method: 'POST', credentials: 'same-origin', cache: 'no-store',
              headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
              body: JSON.stringify(item.reading),
            });
          } catch (e) {
            held = 'network';
            break;
          }
          const id = item.reading.client_id;
          if (resp.status === 201) {
            dequeue(id);
            sent += 1;
            continue;
          }
          const body = await answerOf(resp);
          if (resp.status === 400 || resp.status === 409) {
            const message = resp.status === 400
              ? '服务器拒收（400）：' + fieldErrors(body)
              : '冲突（409）：同一读数编号已用不同内容提交过，本条未保存。';
            const problems = load(PROBLEMS);
            problems.push({ reading: item.reading, label: item.label, message: message });
            save(PROBLEMS, problems);
            dequeue(id);
            say(message, 'error');
            continue;
          }
          held = String(resp.status);
          if (resp.status === 401) {
            say('登录已过期（401），读数保留在本机。重新登录后自动发送：', 'error',
              { href: '/login?next=/survey', text: '重新登录' });
            break;
          }
          if (resp.status === 403) {
            say('无权提交（403：' + ((body && body.error) || '拒绝') +
              '）。读数保留在本机；请刷新页面或重新登录。', 'error');
          } else if (resp.status === 413) {
            say('读数过大（413），未发送，保留在本机。请联系管理员。', 'error');
          } else if (resp.status === 429) {
            say('此网络的登录失败次数过多（429），读数保留在本机，稍后自动重发。', 'warn');
            break;
          } else {
            say('服务器暂时出错（' + resp.status + '），读数保留在本机，稍后自动重发。', 'warn');
            break;
          }
        }
      } while (flushAgain && !held);
    } finally {
      flushing = false;
      render();
    }
    if (held === 'network') {
      say('无法连接服务器，读数保留在本机，网络恢复后自动发送。', 'warn');
    } else if (sent && !held) {
      say('已发送 ' + sent + ' 条读数。', 'ok');
    }
  }

  function number(id) {
    const text = $(id).value.trim().replace(/[−－]/g, '-').replace(/[，,]/g, '.');
    return text === '' ? null : Number(text);
  }

  function technology() {
    return document.querySelector('input[name="technology"]:checked').value;
  }

  function chosenPoint() {
    return document.querySelector('input[name="point"]:checked').value;
  }

  /* The reading as the API takes it, or a message saying what to fix. */
  function readingFromForm() {
    const tech = technology();
    const noService = $('no_service').checked;
    const reading = { taken_at: isoWithOffset(new Date()), technology: tech };
    const point = chosenPoint();
    let label;
    if (point) {
      reading.point = point;
      label = pointsById[point] ? pointsById[point].name : point;
    } else if (here) {
      reading.lat = here.lat;
      reading.lon = here.lon;
      reading.datum = 'wgs84';
      label = '当前位置 ' + here.lat.toFixed(5) + ', ' + here.lon.toFixed(5);
    } else {
      return '还没有位置：请选择测试点，或点“重新定位”。';
    }
    if (noService) {
      reading.no_service = true;
    } else {
      for (const [name, required] of FIGURES[tech]) {
        const value = number(name);
        if (value === null) {
          if (required) return '请填写' + LABELS[name] + '，或勾选“无服务”。';
        } else if (!Number.isFinite(value)) {
          return LABELS[name] + '不是数字。';
        } else {
          reading[name] = value;
        }
      }
    }
    const note = $('note').value.trim();
    if (note) reading.note = note;
    reading.client_id = newId();
    return { reading: reading, label: label };
  }

  function submit(event) {
    event.preventDefault();
    const made = readingFromForm();
    const error = $('form-error');
    if (typeof made === 'string') {
      error.textContent = made;
      error.hidden = false;
      return;
    }
    error.hidden = true;
    const queue = load(QUEUE);
    queue.push(made);
    save(QUEUE, queue);
    for (const id of ['rssi_dbm', 'ber', 'rsrp_dbm', 'sinr_db', 'note']) $(id).value = '';
    $('no_service').checked = false;
    showFigures();
    flush();
  }

  function showFigures() {
    const tech = technology();
    const off = $('no_service').checked;
    $('pdt-fields').hidden = tech !== 'pdt' || off;
    $('bb-fields').hidden = tech !== 'broadband' || off;
  }

  function pointChanged() {
    const point = pointsById[chosenPoint()];
    for (const radio of document.querySelectorAll('input[name="technology"]')) {
      if (point) radio.checked = radio.value === point.technology;
      radio.disabled = Boolean(point);
    }
    showFigures();
  }

  function distance(m) {
    return m < 1000 ? Math.round(m) + ' 米' : (m / 1000).toFixed(1) + ' 公里';
  }

  async function loadPoints() {
    const query = here ? '?lat=' + here.lat + '&lon=' + here.lon : '';
    let resp;
    try {
      resp = await fetch('/api/v1/points' + query, { credentials: 'same-origin' });
    } catch (e) {
      return; // offline: "use my current location" still works
    }
    if (resp.status === 401) {
      say('登录已过期，请', 'error', { href: '/login?next=/survey', text: '重新登录' });
      return;
    }
    if (!resp.ok) return;
    const body = await answerOf(resp);
    const points = body && Array.isArray(body.points) ? body.points : [];
    const box = $('points');
    const keep = chosenPoint();
    box.querySelectorAll('label.point').forEach((el) => el.remove());
    pointsById = {};
    for (const p of points) {
      pointsById[p.id] = p;
      const label = document.createElement('label');
      label.className = 'choice point';
      const radio = document.createElement('input');
      radio.type = 'radio';
      radio.name = 'point';
      radio.value = p.id;
      radio.checked = p.id === keep;
      const name = document.createElement('span');
      name.textContent = p.name + '（' + (p.technology === 'pdt' ? 'PDT' : '宽带') + '）';
      label.append(radio, name);
      if (typeof p.distance_m === 'number') {
        const far = document.createElement('span');
        far.className = 'dist';
        far.textContent = distance(p.distance_m);
        label.append(far);
      }
      box.append(label);
    }
    pointChanged();
  }

  function locate() {
    if (!navigator.geolocation) {
      $('here').textContent = '此浏览器不能定位：请选择测试点。';
      loadPoints();
      return;
    }
    $('here').textContent = '正在获取位置…';
    navigator.geolocation.getCurrentPosition((pos) => {
      here = { lat: pos.coords.latitude, lon: pos.coords.longitude,
        accuracy: pos.coords.accuracy };
      $('here').textContent = '当前位置 ' + here.lat.toFixed(5) + ', ' + here.lon.toFixed(5) +
        '（误差约 ' + Math.round(here.accuracy) + ' 米）';
      loadPoints();
    }, (err) => {
      $('here').textContent = '无法获取位置（' + err.message + '）：请允许定位，或直接选择测试点。';
      loadPoints();
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  }

  $('reading').addEventListener('submit', submit);
  $('locate').addEventListener('click', locate);
  $('no_service').addEventListener('change', showFigures);
  $('points').addEventListener('change', pointChanged);
  for (const radio of document.querySelectorAll('input[name="technology"]')) {
    radio.addEventListener('change', showFigures);
  }
  window.addEventListener('online', flush);
  window.addEventListener('storage', render);
  setInterval(flush, RETRY_MS);
  if ('serviceWorker' in navigator) {
    // Lets the form open again where there is no network (static/survey-sw.js); once it
    // takes over, the points are fetched again through it so that it keeps them.
    navigator.serviceWorker.addEventListener('controllerchange', loadPoints);
    navigator.serviceWorker.register('/survey-sw.js', { scope: '/survey' }).catch(() => {});
  }
  render();
  locate();
  flush();
}());
