// The wall screen in the browser (docs/ARCHITECTURE.md, "Any resolution" and "The map"):
// - the screen's size for the server, which scales every figure from the design size;
// - each map fitted to its unit at the panel's real size, with its members' names written over
//   it (an HTML overlay placed from the map's projection: no glyphs, nothing fetched);
// - a click on a map emitted from the polygon under the pointer, so it is never dropped;
// - KPI numbers that count up when they change, new alarms that flash once (and may sound);
// - the full-screen button.
(function () {
  "use strict";
  const DESIGN = {width: 1920, height: 1080};
  const FIT_PADDING = 0.06; // share of the panel left around the unit on each side

  function screenSize() {
    return {width: window.innerWidth, height: window.innerHeight};
  }

  function scaleOf(size) {
    return Math.min(size.width / DESIGN.width, size.height / DESIGN.height).toFixed(3);
  }

  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.citybrain = Object.assign(window.dash_clientside.citybrain || {}, {
    screen: function () {
      return screenSize();
    },
  });

  // A resize that changes the scale (a window moved to another screen) re-renders the figures.
  let lastScale = scaleOf(screenSize());
  let resizeTimer = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      const size = screenSize();
      if (scaleOf(size) !== lastScale && window.dash_clientside.set_props) {
        lastScale = scaleOf(size);
        window.dash_clientside.set_props("screen-size", {data: size});
      }
    }, 400);
  });

  // --- maps ------------------------------------------------------------------------------------

  function mapsOnPage() {
    const found = [];
    document.querySelectorAll(".js-plotly-plot").forEach(function (gd) {
      const sub = gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot;
      if (sub && sub.map) found.push({gd: gd, sub: sub, map: sub.map});
    });
    return found;
  }

  function fitKey(gd, map) {
    const meta = gd.layout.meta || {};
    const canvas = map.getCanvas();
    const bar = gd.querySelector(".colorbar");
    const barWidth = bar ? Math.round(bar.getBoundingClientRect().width) : 0;
    return JSON.stringify([meta.fit, gd.layout.uirevision, canvas.clientWidth, canvas.clientHeight, barWidth]);
  }

  // Fit the unit's bounds to the panel, and record the new view as the person's own pan and
  // zoom (plotly's uirevision keeps it through the next value update of the same unit).
  function fit(gd, sub, map) {
    const fitBounds = (gd.layout.meta || {}).fit;
    const canvas = map.getCanvas();
    if (!fitBounds || !canvas.clientWidth || !canvas.clientHeight) return;
    const pad = Math.round(Math.min(canvas.clientWidth, canvas.clientHeight) * FIT_PADDING);
    // The colour bar sits on the right edge: keep the unit clear of it.
    const bar = gd.querySelector(".colorbar");
    const barWidth = bar ? bar.getBoundingClientRect().width : 0;
    map.fitBounds([[fitBounds[0], fitBounds[1]], [fitBounds[2], fitBounds[3]]],
      {padding: {top: pad, bottom: pad, left: pad + barWidth / 2, right: pad + barWidth},
        animate: false, maxZoom: 18});
    const center = map.getCenter();
    const view = {center: {lon: center.lng, lat: center.lat}, zoom: map.getZoom()};
    gd.__cbFitted = view;
    const full = gd._fullLayout;
    const pre = full._preGUI || (full._preGUI = {});
    ["center", "zoom"].forEach(function (key) {
      if (!("map." + key in pre)) pre["map." + key] = gd.layout.map[key];
      gd.layout.map[key] = view[key];
      full.map[key] = view[key];
      if (full.map._input) full.map._input[key] = view[key];
    });
  }

  // The names live inside the map's own container: under plotly's colour bar and tooltips.
  function ensureOverlay(gd, sub, map) {
    const host = sub.div;
    let overlay = host.querySelector(":scope > .map-labels");
    if (!overlay) {
      overlay = document.createElement("div");
      overlay.className = "map-labels";
      host.appendChild(overlay);
    }
    if (map.__cbOverlay !== overlay) {
      map.__cbOverlay = overlay;
      const redraw = function () { placeLabels(gd, map, overlay); };
      map.on("move", redraw);
      map.on("resize", redraw);
    }
    return overlay;
  }

  function setLabels(gd, map, overlay) {
    const labels = (gd.layout.meta || {}).labels || [];
    const key = JSON.stringify(labels);
    if (overlay.__cbKey === key) return;
    overlay.__cbKey = key;
    overlay.replaceChildren();
    labels.forEach(function (label) {
      const span = document.createElement("span");
      span.className = "map-label";
      span.textContent = label.name;
      span.dataset.code = label.code;
      span.__cbLonLat = [label.lon, label.lat];
      overlay.appendChild(span);
    });
    placeLabels(gd, map, overlay);
  }

  // Names at their places; one that would overlap a name already written is left out.
  function placeLabels(gd, map, overlay) {
    const canvas = map.getCanvas();
    const width = canvas.clientWidth, height = canvas.clientHeight;
    const placed = [];
    overlay.querySelectorAll(".map-label").forEach(function (span) {
      const p = map.project(span.__cbLonLat);
      const w = span.offsetWidth, h = span.offsetHeight;
      const box = [p.x - w / 2, p.y - h / 2, p.x + w / 2, p.y + h / 2];
      const inside = box[0] >= 0 && box[1] >= 0 && box[2] <= width && box[3] <= height;
      const clear = placed.every(function (b) {
        return box[2] < b[0] || box[0] > b[2] || box[3] < b[1] || box[1] > b[3];
      });
      const show = inside && clear;
      span.style.visibility = show ? "visible" : "hidden";
      span.style.transform = "translate(" + Math.round(box[0]) + "px," + Math.round(box[1]) + "px)";
      if (show) placed.push(box);
    });
  }

  // The topmost clickable polygon under the pointer, as plotly's click would report it after a
  // hover; plotly's own click is off (layout.clickmode "none", see layouts/maps.py).
  function clickedPoint(gd, map, point) {
    const traces = gd._fullData || [];
    for (let i = traces.length - 1; i >= 0; i--) {
      const trace = traces[i];
      if (trace.type !== "choroplethmap" || trace.visible !== true || trace.hoverinfo === "skip") continue;
      const layer = "plotly-trace-layer-" + trace.uid + "-fill";
      if (!map.getLayer(layer)) continue;
      const hits = map.queryRenderedFeatures(point, {layers: [layer]});
      if (!hits.length) continue;
      const ct = JSON.stringify(hits[0].properties.ct);
      const cd = gd.calcdata[i] || [];
      for (let k = 0; k < cd.length; k++) {
        if (cd[k].fOut && JSON.stringify(cd[k].fOut.properties.ct) === ct) {
          return {curveNumber: i, pointNumber: k, pointIndex: k, location: cd[k].loc, z: cd[k].z};
        }
      }
    }
    return null;
  }

  // A case dot (a scattermap marker) under the pointer: the nearest within its radius, reported as
  // plotly reports a point click (callbacks/staff.py opens the case from its customdata).
  function clickedMarker(gd, map, point) {
    const traces = gd._fullData || [];
    for (let i = traces.length - 1; i >= 0; i--) {
      const trace = traces[i];
      if (trace.type !== "scattermap" || trace.visible !== true || !trace.lon) continue;
      const size = trace.marker && typeof trace.marker.size === "number" ? trace.marker.size : 10;
      let best = null, bestDistance = Math.pow(size / 2 + 4, 2);
      for (let k = 0; k < trace.lon.length; k++) {
        const p = map.project([trace.lon[k], trace.lat[k]]);
        const distance = Math.pow(p.x - point.x, 2) + Math.pow(p.y - point.y, 2);
        if (distance <= bestDistance) { best = k; bestDistance = distance; }
      }
      if (best !== null) {
        return {curveNumber: i, pointNumber: best, pointIndex: best, lon: trace.lon[best],
                lat: trace.lat[best], customdata: trace.customdata ? trace.customdata[best] : undefined};
      }
    }
    return null;
  }

  // A later figure of the same unit may put plotly's first guess back (a new screen size, a
  // re-render): fit again, unless the person has panned or zoomed since.
  function drifted(gd, map) {
    const fitted = gd.__cbFitted;
    if (!fitted || gd.__cbUserMoved === gd.__cbFitKey || map.isMoving()) return false;
    const c = map.getCenter();
    return Math.abs(map.getZoom() - fitted.zoom) > 0.01 ||
      Math.abs(c.lng - fitted.center.lon) > 1e-6 || Math.abs(c.lat - fitted.center.lat) > 1e-6;
  }

  function watchClicks(gd, map) {
    if (map.__cbClicks) return;
    map.__cbClicks = true;
    map.on("movestart", function (evt) {
      if (evt.originalEvent) gd.__cbUserMoved = gd.__cbFitKey;
    });
    map.on("click", function (evt) {
      const point = clickedMarker(gd, map, evt.point) || clickedPoint(gd, map, evt.point);
      if (point) gd.emit("plotly_click", {points: [point], event: evt.originalEvent});
    });
  }

  function tendMaps() {
    mapsOnPage().forEach(function (m) {
      if (!m.map.isStyleLoaded()) return;
      watchClicks(m.gd, m.map);
      const key = fitKey(m.gd, m.map);
      if (m.gd.__cbFitKey !== key) {
        m.gd.__cbFitKey = key;
        m.gd.__cbRefits = 0;
        fit(m.gd, m.sub, m.map);
      } else if (m.gd.__cbRefits < 2 && drifted(m.gd, m.map)) {
        m.gd.__cbRefits += 1; // at most twice per view: never a tug of war with plotly
        fit(m.gd, m.sub, m.map);
      }
      const overlay = ensureOverlay(m.gd, m.sub, m.map);
      setLabels(m.gd, m.map, overlay);
    });
  }

  // --- KPI count-up ----------------------------------------------------------------------------

  function parseNumber(text) {
    const match = /^([^\d-]*)(-?[\d,]*\.?\d+)(.*)$/.exec(text.trim());
    if (!match) return null;
    const digits = match[2];
    const decimals = digits.includes(".") ? digits.split(".")[1].length : 0;
    return {prefix: match[1], value: parseFloat(digits.replace(/,/g, "")), decimals: decimals,
      grouped: digits.includes(","), suffix: match[3]};
  }

  function formatLike(target, value) {
    const text = value.toLocaleString("en-US", {minimumFractionDigits: target.decimals,
      maximumFractionDigits: target.decimals, useGrouping: target.grouped || Math.abs(value) >= 1000});
    return target.prefix + text + target.suffix;
  }

  function countUp(el, fromText, toText) {
    const from = parseNumber(fromText), to = parseNumber(toText);
    const node = el.firstChild;
    if (!from || !to || from.suffix !== to.suffix || !node || node.nodeType !== 3) return;
    const start = performance.now(), duration = 900;
    el.classList.add("kpi-changed");
    function step(now) {
      if (el.__cbFinal !== toText) return; // a newer value took over
      const t = Math.min(1, (now - start) / duration);
      const eased = 1 - Math.pow(1 - t, 3);
      const text = t < 1 ? formatLike(to, from.value + (to.value - from.value) * eased) : toText;
      el.__cbWrote = text;
      node.nodeValue = text;
      if (t < 1) requestAnimationFrame(step);
      else setTimeout(function () { el.classList.remove("kpi-changed"); }, 600);
    }
    requestAnimationFrame(step);
  }

  function tendKpis() {
    document.querySelectorAll(".kpi-value").forEach(function (el) {
      const text = el.textContent;
      if (text === el.__cbWrote || text === el.__cbFinal) return;
      const previous = el.__cbFinal;
      el.__cbFinal = text;
      if (previous !== undefined) countUp(el, previous, text);
    });
  }

  // --- new alarms --------------------------------------------------------------------------------

  let alarmScope = null;
  let seenAlarms = null;

  function beep() {
    try {
      const audio = new (window.AudioContext || window.webkitAudioContext)();
      const tone = audio.createOscillator(), gain = audio.createGain();
      tone.frequency.value = 880;
      gain.gain.setValueAtTime(0.2, audio.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.6);
      tone.connect(gain).connect(audio.destination);
      tone.start();
      tone.stop(audio.currentTime + 0.6);
    } catch (e) { /* no audio device: the flash is enough */ }
  }

  function tendAlarms() {
    const list = document.getElementById("alarm-list");
    if (!list) { seenAlarms = null; return; }
    const shown = list.querySelector("[data-scope]");
    if (!shown) return; // still the skeleton
    const rows = list.querySelectorAll(".case-row[data-key]");
    const scope = shown.dataset.scope;
    if (seenAlarms === null || scope !== alarmScope) {
      alarmScope = scope;
      seenAlarms = new Set(Array.from(rows, function (r) { return r.dataset.key; }));
      return;
    }
    let fresh = 0;
    rows.forEach(function (row) {
      if (seenAlarms.has(row.dataset.key)) return;
      seenAlarms.add(row.dataset.key);
      row.classList.add("alarm-new");
      fresh += 1;
    });
    const panel = list.closest(".alarm-panel");
    if (fresh && panel && panel.dataset.sound === "on") beep();
  }

  // --- full screen ----------------------------------------------------------------------------

  document.addEventListener("click", function (evt) {
    if (!evt.target.closest || !evt.target.closest(".fullscreen-button")) return;
    if (document.fullscreenElement) document.exitFullscreen();
    else document.documentElement.requestFullscreen().catch(function () {});
  });

  setInterval(function () {
    tendMaps();
    tendKpis();
    tendAlarms();
  }, 100);
})();
