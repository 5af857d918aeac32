// The SphereKit page: two photos -> POST /v1/inspect -> boxes, crops, cosine, decision.
// No framework, no third-party code. Every text from the server or from a file name is written with textContent.
'use strict';

(function () {
  const SVG = 'http://www.w3.org/2000/svg';
  const PARTS = ['a', 'b'];
  const LABEL = { a: 'photo 1', b: 'photo 2' };
  const MULTIPART_OVERHEAD = 1024; // boundaries and part headers around the two files, generously
  const state = { model: null, files: { a: null, b: null }, urls: { a: null, b: null }, seq: 0 };

  // Headings for the server's stable error codes (README, error-code table)
  const TITLES = {
    no_face: 'No face found',
    invalid_image: 'This photo cannot be read',
    payload_too_large: 'The photos are too large',
    unsupported_media_type: 'Unsupported upload',
    bad_request: 'The request was not understood',
    unprocessable: 'The faces cannot be compared',
    too_many_requests: 'The server is busy, try again',
    busy: 'The server is busy, try again',
    timeout: 'The server took too long',
    request_timeout: 'The upload took too long',
    request_too_slow: 'The upload was too slow',
    shutting_down: 'The server is shutting down',
    inference_failed: 'The model failed on these photos',
    internal: 'The server failed',
  };

  const $ = (id) => document.getElementById(id);
  const slot = (part) => $('slot-' + part);

  /** The server names the uploads 'a' and 'b'; the person sees photo 1 and photo 2. */
  function photoNames(text) {
    return String(text)
      .replace(/image '([ab])'/g, (m, p) => LABEL[p])
      .replace(/'([ab])'/g, (m, p) => LABEL[p]);
  }

  function capitalise(s) {
    return s.length === 0 ? s : s[0].toUpperCase() + s.slice(1);
  }

  function megabytes(n) {
    return (n / (1024 * 1024)).toFixed(1) + ' MB';
  }

  function sizeText(n) {
    return n < 1024 * 1024 ? Math.max(1, Math.round(n / 1024)) + ' KB' : megabytes(n);
  }

  /** Where the threshold came from, in words: the server's threshold_source and the model's own note. */
  function sourceText(source, detail) {
    if (source === 'explicit') {
      return 'set when the server was started (serve --threshold)';
    }
    if (String(source).startsWith('model metadata')) {
      return 'stored in the model file (spherekit.threshold)' + (detail ? ', chosen as: ' + detail : '');
    }
    return String(source);
  }

  function clear(node) {
    while (node.firstChild) {
      node.removeChild(node.firstChild);
    }
  }

  function svgNode(name, attrs, parent) {
    const n = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs)) {
      n.setAttribute(k, String(v));
    }
    parent.appendChild(n);
    return n;
  }

  // ---------------------------------------------------------------- model info

  async function loadModel() {
    const line = $('model');
    try {
      const r = await fetch('/v1/model', { headers: { Accept: 'application/json' } });
      const j = await r.json();
      if (!r.ok) {
        throw new Error(photoNames(j.message || r.statusText));
      }
      state.model = j;
      const md = j.metadata || {};
      line.textContent = 'Model ' + j.model_id + ' · input ' + j.input.height + '×' + j.input.width
        + ' · threshold ' + Number(j.threshold).toFixed(4) + ', '
        + sourceText(j.threshold_source, md['spherekit.threshold.source'])
        + ' · up to ' + megabytes(j.limits.max_body_bytes) + ' per comparison';
      line.classList.remove('offline');
    } catch (e) {
      line.textContent = 'Cannot reach the SphereKit server: ' + e.message;
      line.classList.add('offline');
    }
  }

  // ---------------------------------------------------------------- choosing photos

  function setFile(part, file) {
    if (!file) {
      return;
    }
    const s = slot(part);
    if (state.urls[part]) {
      URL.revokeObjectURL(state.urls[part]);
    }
    state.files[part] = file;
    state.urls[part] = URL.createObjectURL(file);
    s.querySelector('.photo').src = state.urls[part];
    s.querySelector('.stage').hidden = false;
    s.querySelector('.hint').hidden = true;
    s.classList.remove('failed');
    clear(s.querySelector('.overlay'));
    s.querySelector('.overlay').removeAttribute('data-drawn');
    s.querySelector('.meta').textContent = file.name + ' · ' + sizeText(file.size);
    compareIfReady();
  }

  function wire(part) {
    const s = slot(part);
    const input = s.querySelector('.file');
    const drop = s.querySelector('.drop');
    input.addEventListener('change', () => {
      setFile(part, input.files[0]);
    });
    drop.addEventListener('dragover', (e) => {
      e.preventDefault();
      drop.classList.add('over');
    });
    drop.addEventListener('dragleave', () => drop.classList.remove('over'));
    drop.addEventListener('drop', (e) => {
      e.preventDefault();
      drop.classList.remove('over');
      const f = e.dataTransfer && e.dataTransfer.files && e.dataTransfer.files[0];
      setFile(part, f);
    });
  }

  // ---------------------------------------------------------------- comparing

  function setStatus(text) {
    $('status').textContent = text;
  }

  function showError(title, message, codeLine) {
    $('verdict').hidden = true;
    const box = $('error');
    box.querySelector('.error-title').textContent = title;
    box.querySelector('.error-message').textContent = capitalise(message);
    box.querySelector('.error-code').textContent = codeLine;
    box.hidden = false;
    setStatus('');
  }

  async function compareIfReady() {
    const seq = ++state.seq;
    $('error').hidden = true;
    $('verdict').hidden = true;
    const missing = PARTS.filter((p) => !state.files[p]);
    if (missing.length === 2) {
      setStatus('Choose two photos to compare.');
      return;
    }
    if (missing.length === 1) {
      setStatus('Now choose ' + LABEL[missing[0]] + '.');
      return;
    }
    const total = state.files.a.size + state.files.b.size;
    const limit = state.model && state.model.limits ? state.model.limits.max_body_bytes : null;
    if (limit !== null && total + MULTIPART_OVERHEAD > limit) {
      showError(TITLES.payload_too_large, 'the two photos together are ' + megabytes(total)
        + '; this server accepts at most ' + megabytes(limit) + ' per comparison (serve --max-body-bytes).'
        + ' Use smaller copies of the photos.', 'checked in the page; nothing was sent');
      return;
    }
    const form = new FormData();
    form.append('a', state.files.a, state.files.a.name);
    form.append('b', state.files.b, state.files.b.name);
    setStatus('Comparing…');
    const started = performance.now();
    let r;
    let j = null;
    try {
      r = await fetch('/v1/inspect', { method: 'POST', body: form, headers: { Accept: 'application/json' } });
      try {
        j = await r.json();
      } catch (e) {
        j = null;
      }
    } catch (e) {
      if (seq === state.seq) {
        showError('Cannot reach the server', String(e.message || e), 'the request did not complete');
      }
      return;
    }
    if (seq !== state.seq) {
      return; // a newer photo was chosen meanwhile
    }
    if (!r.ok || j === null || typeof j !== 'object') {
      const code = j && j.code ? j.code : 'http_error';
      showError(TITLES[code] || 'Error ' + r.status, j && j.message ? photoNames(j.message) : r.statusText,
        'HTTP ' + r.status + ' · ' + code);
      const m = j && j.message ? /'([ab])'/.exec(j.message) : null;
      if (m && (code === 'no_face' || code === 'invalid_image')) {
        slot(m[1]).classList.add('failed');
        slot(m[1]).querySelector('.meta').textContent = capitalise(photoNames(j.message));
      }
      return;
    }
    showResult(j);
    setStatus('Compared in ' + Math.round(performance.now() - started) + ' ms.');
  }

  // ---------------------------------------------------------------- drawing the answer

  /** A label on a pill above the box (inside it when the box touches the top edge). */
  function label(svg, box, text, unit, cls) {
    const size = unit * 5;
    const pad = unit * 1.1;
    const above = box.y - pad * 1.6;
    const y = above - size > 0 ? above : box.y + size + pad;
    const g = svgNode('g', { class: 'label ' + cls }, svg);
    const pill = svgNode('rect', { rx: unit * 1.2, ry: unit * 1.2 }, g);
    const t = svgNode('text', { x: box.x + pad, y: y, 'font-size': size }, g);
    t.textContent = text;
    const b = t.getBBox();
    pill.setAttribute('x', String(b.x - pad));
    pill.setAttribute('y', String(b.y - pad * 0.4));
    pill.setAttribute('width', String(b.width + 2 * pad));
    pill.setAttribute('height', String(b.height + pad * 0.8));
  }

  function rect(svg, box, cls) {
    return svgNode('rect', { x: box.x, y: box.y, width: box.width, height: box.height, class: cls,
      'vector-effect': 'non-scaling-stroke' }, svg);
  }

  function drawOverlay(part, im, j) {
    const svg = slot(part).querySelector('.overlay');
    clear(svg);
    svg.setAttribute('viewBox', '0 0 ' + im.width + ' ' + im.height);
    svg.setAttribute('preserveAspectRatio', 'none');
    const unit = Math.max(im.width, im.height) / 100;
    if (im.crop_box) {
      rect(svg, im.crop_box, 'box crop-box');
      label(svg, im.crop_box, 'fixed crop', unit, 'crop');
    }
    const usedIndex = im.face_used ? im.face_used.index : -1;
    im.faces.forEach((f, k) => {
      if (k === usedIndex) {
        return; // drawn below as the face used (the same detection, refined)
      }
      rect(svg, f.box, 'box face-box');
      label(svg, f.box, 'face · ' + f.score.toFixed(2), unit, 'other');
    });
    if (im.face_used) {
      const u = im.face_used;
      rect(svg, u.box, 'box face-used');
      label(svg, u.box, 'used · ' + u.score.toFixed(2), unit, 'used');
      u.landmarks.forEach((p, k) => {
        const c = svgNode('circle', { cx: p[0], cy: p[1], r: unit * 1.1,
          class: k < 4 ? 'landmark aligned' : 'landmark ear', 'vector-effect': 'non-scaling-stroke' }, svg);
        const title = document.createElementNS(SVG, 'title');
        title.textContent = (j.landmark_names[k] || 'landmark ' + k).replace('_', ' ')
          + (k < 4 ? ' (used for the alignment)' : '');
        c.appendChild(title);
      });
    }
    svg.setAttribute('data-drawn', 'true');
  }

  function showCrop(part, im, j) {
    const fig = $('crop-' + part);
    const img = fig.querySelector('img');
    if (typeof im.crop === 'string' && im.crop.startsWith('data:image/png;base64,')) {
      img.src = im.crop;
    } else {
      img.removeAttribute('src');
    }
    img.width = j.input.width * 2;
    img.height = j.input.height * 2;
    fig.querySelector('figcaption').textContent = capitalise(LABEL[part]) + ': ' + j.input.width + '×'
      + j.input.height + (j.align === 'detect' ? ', aligned onto ' + j.template : ', the fixed crop');
  }

  function describe(im, j) {
    const size = im.width + '×' + im.height + ' px';
    if (j.align !== 'detect') {
      return size + ' · fixed crop box (the server runs --align crop: no face detection)';
    }
    const n = im.faces.length;
    return size + ' · ' + n + (n === 1 ? ' face found' : ' faces found; the largest was used');
  }

  function showResult(j) {
    for (const im of j.images) {
      const part = im.part;
      drawOverlay(part, im, j);
      showCrop(part, im, j);
      slot(part).querySelector('.meta').textContent = state.files[part].name + ' · ' + describe(im, j);
    }
    const v = $('verdict');
    v.classList.toggle('same', j.same);
    v.classList.toggle('different', !j.same);
    $('decision').textContent = j.same ? 'Same person' : 'Different people';
    const cos = $('cosine');
    cos.textContent = j.score.toFixed(4);
    cos.setAttribute('data-score', String(j.score));
    $('relation').textContent = j.same ? '≥' : '<';
    $('threshold').textContent = j.threshold.toFixed(4);
    // the cosine scale from -1 to 1: the "same" zone from the threshold up, and where this pair lies
    const at = (x) => (Math.max(-1, Math.min(1, x)) + 1) * 50 + '%';
    v.querySelector('.scale-same').style.left = at(j.threshold);
    v.querySelector('.scale-threshold').style.left = at(j.threshold);
    v.querySelector('.scale-score').style.left = at(j.score);
    $('threshold-source').textContent = 'Threshold ' + sourceText(j.threshold_source, j.threshold_detail)
      + '. Model ' + j.model_id + '.';
    v.hidden = false;
  }

  // ---------------------------------------------------------------- start

  document.addEventListener('DOMContentLoaded', () => {
    PARTS.forEach(wire);
    // A photo dropped next to the drop zones must not make the browser leave the page
    window.addEventListener('dragover', (e) => e.preventDefault());
    window.addEventListener('drop', (e) => e.preventDefault());
    loadModel();
  });
})();
