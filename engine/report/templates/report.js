/* The report's behaviour, inlined by engine/report/html.py: sortable trade tables, the
   "all columns" switch and the zoomable price charts (uPlot, inlined above). No network.
   Each price chart writes its visible range on its <figure> (data-x-min, data-x-max) and how
   many trade marks it drew (data-marks), so a person or a test can see what it shows. */
(function () {
  "use strict";

  // ---------------------------------------------------------------- tables

  function key(td) {
    var v = td ? td.getAttribute("data-v") : null;
    if (v === null || v === "") return null;
    var n = Number(v);
    return isNaN(n) ? v.toLowerCase() : n;
  }

  function sortBy(table, col, th) {
    var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", dir > 0 ? "ascending" : "descending");
    var body = table.tBodies[0];
    var keyed = Array.prototype.map.call(body.rows, function (tr, i) { return [key(tr.cells[col]), i, tr]; });
    keyed.sort(function (a, b) {
      if (a[0] === null || b[0] === null) {  // no value: always last
        return a[0] === b[0] ? a[1] - b[1] : a[0] === null ? 1 : -1;
      }
      if (typeof a[0] !== typeof b[0]) return (typeof a[0] === "number" ? -1 : 1) * dir;
      if (a[0] === b[0]) return a[1] - b[1];
      return (a[0] < b[0] ? -1 : 1) * dir;
    });
    keyed.forEach(function (k) { body.appendChild(k[2]); });
  }

  document.querySelectorAll("table.trades").forEach(function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
      th.tabIndex = 0;
      var go = function () { sortBy(table, col, th); };
      th.addEventListener("click", go);
      th.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); go(); }
      });
    });
  });

  document.querySelectorAll("input.all-columns").forEach(function (box) {
    var table = document.getElementById(box.getAttribute("data-table"));
    box.checked = false;
    box.addEventListener("change", function () { if (table) table.classList.toggle("all", box.checked); });
  });

  // ---------------------------------------------------------------- price charts

  if (typeof uPlot === "undefined") return;  // the <noscript> images stay hidden: nothing else to do

  var WIN = "#2ca02c", LOSS = "#d62728", FLAT = "#7f7f7f", LINE = "#444444";
  var DAY = 86400;

  function iso(ts) {
    return new Date(ts * 1000).toISOString().replace("T", " ").replace(/:\d\d\.\d+Z$/, "");
  }

  function ticks(u, vals) {
    var step = vals.length > 1 ? Math.abs(vals[1] - vals[0]) : Math.abs(vals[0] || 1);
    var dec = step > 0 ? Math.max(0, Math.min(8, Math.ceil(-Math.log10(step) - 1e-9))) : 2;
    return vals.map(function (v) {
      return v === null ? "" : v.toLocaleString("en-US", { minimumFractionDigits: dec, maximumFractionDigits: dec });
    });
  }

  function timeTicks(u, splits, axis, space, incr) {
    // 24-hour UTC times; the date (MM-DD) at the first tick and wherever the day changes
    var last = null;
    return splits.map(function (ts) {
      var text = new Date(ts * 1000).toISOString(), day = text.slice(5, 10), hm = text.slice(11, 16);
      var label = incr >= DAY ? day : day !== last ? day + "\n" + hm : hm;
      last = day;
      return label;
    });
  }

  function merged(data) {
    // the close times plus every trade time, so every mark has a place on the x axis
    var times = {}, closes = {};
    data.x.forEach(function (t, i) { times[t] = true; closes[t] = data.close[i]; });
    data.runs.forEach(function (run) {
      run.trades.forEach(function (t) {
        if (t[0] !== null) times[t[0]] = true;
        if (t[2] !== null) times[t[2]] = true;
      });
    });
    var xs = Object.keys(times).map(Number).sort(function (a, b) { return a - b; });
    return [xs, xs.map(function (t) { return t in closes ? closes[t] : null; })];
  }

  function triangle(ctx, x, y, r, up) {
    var s = up ? 1 : -1;
    ctx.moveTo(x, y - s * r);
    ctx.lineTo(x + r, y + s * r * 0.8);
    ctx.lineTo(x - r, y + s * r * 0.8);
    ctx.closePath();
  }

  function cross(ctx, x, y, r) {
    ctx.moveTo(x - r, y - r); ctx.lineTo(x + r, y + r);
    ctx.moveTo(x - r, y + r); ctx.lineTo(x + r, y - r);
  }

  function drawTrades(data, fig) {
    return function (u) {
      var ctx = u.ctx, px = uPlot.pxRatio, box = u.bbox, marks = 0;
      var lo = u.scales.x.min, hi = u.scales.x.max;
      ctx.save();
      ctx.beginPath();
      ctx.rect(box.left, box.top, box.width, box.height);
      ctx.clip();
      data.runs.forEach(function (run, ri) {
        var hollow = ri > 0;  // the second rule set: hollow marks, dotted lines
        run.trades.forEach(function (t) {
          var inView = (t[0] !== null && t[0] >= lo && t[0] <= hi) || (t[2] !== null && t[2] >= lo && t[2] <= hi)
            || (t[0] !== null && t[2] !== null && t[0] < lo && t[2] > hi);
          if (!inView) return;
          var color = t[5] > 0 ? WIN : t[5] < 0 ? LOSS : FLAT;
          var entry = t[0] === null ? null : [u.valToPos(t[0], "x", true), u.valToPos(t[1], "y", true)];
          var exit = t[2] === null ? null : [u.valToPos(t[2], "x", true), u.valToPos(t[3], "y", true)];
          ctx.strokeStyle = color;
          ctx.fillStyle = color;
          ctx.lineWidth = px;
          if (entry && exit) {
            ctx.globalAlpha = 0.45;
            ctx.setLineDash(hollow ? [2 * px, 3 * px] : []);
            ctx.beginPath(); ctx.moveTo(entry[0], entry[1]); ctx.lineTo(exit[0], exit[1]); ctx.stroke();
            ctx.setLineDash([]);
          }
          ctx.globalAlpha = 1;
          if (entry) {
            ctx.beginPath(); triangle(ctx, entry[0], entry[1], 5 * px, t[4] > 0);
            if (hollow) { ctx.lineWidth = 1.3 * px; ctx.stroke(); } else { ctx.fill(); }
            marks += 1;
          }
          if (exit) {
            ctx.lineWidth = (hollow ? 1.2 : 2) * px;
            ctx.beginPath(); cross(ctx, exit[0], exit[1], 4 * px); ctx.stroke();
            marks += 1;
          }
        });
      });
      ctx.restore();
      fig.setAttribute("data-marks", String(marks));
    };
  }

  function priceChart(fig) {
    var holder = fig.querySelector(".iplot"), source = fig.querySelector("script.iplot-data");
    if (!holder || !source) return;
    var data = JSON.parse(source.textContent);
    var aligned = merged(data), xs = aligned[0];
    var full = [xs[0], xs[xs.length - 1]];
    if (!(full[1] > full[0])) full = [full[0] - 30 * 60, full[0] + 30 * 60];
    var range = fig.querySelector(".iplot-tools .range");

    function clamp(min, max) {
      var span = Math.min(Math.max(max - min, 60), full[1] - full[0]);
      if (min < full[0]) min = full[0];
      if (min + span > full[1]) min = full[1] - span;
      return [min, min + span];
    }

    var u;
    function show(min, max) {
      var r = clamp(min, max);
      u.setScale("x", { min: r[0], max: r[1] });
    }

    var opts = {
      width: Math.max(holder.clientWidth, 300),
      height: 320,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"); },
      scales: { x: { time: true } },
      series: [
        { label: "time (UTC)", value: function (u, v) { return v === null ? "—" : iso(v); } },
        { label: data.symbol + " close", stroke: LINE, width: 1, spanGaps: true, points: { show: false },
          value: function (u, v) { return v === null ? "—" : v.toLocaleString("en-US", { maximumFractionDigits: 8 }); } },
      ],
      axes: [
        { space: 70, values: timeTicks, label: "time (UTC)", labelSize: 20 },
        { values: ticks, size: 70 },
      ],
      cursor: {
        drag: { x: true, y: false },
        bind: {
          mousedown: function (u, targ, handler) {
            return function (e) {
              if (!e.shiftKey) return handler(e);
              var x0 = e.clientX, min0 = u.scales.x.min, max0 = u.scales.x.max;
              var per = (max0 - min0) / u.bbox.width * uPlot.pxRatio;
              function move(m) { var dx = (m.clientX - x0) * per; show(min0 - dx, max0 - dx); }
              function up() { document.removeEventListener("mousemove", move); document.removeEventListener("mouseup", up); }
              document.addEventListener("mousemove", move);
              document.addEventListener("mouseup", up);
              return null;  // uPlot's listener is passive: no preventDefault, and no selection starts
            };
          },
        },
      },
      hooks: {
        draw: [drawTrades(data, fig)],
        setScale: [function (u, scale) {
          if (scale !== "x") return;
          fig.setAttribute("data-x-min", String(u.scales.x.min));
          fig.setAttribute("data-x-max", String(u.scales.x.max));
          if (range) range.textContent = iso(u.scales.x.min) + " → " + iso(u.scales.x.max) + " UTC";
        }],
      },
    };
    u = new uPlot(opts, aligned, holder);
    u.setScale("x", { min: full[0], max: full[1] });

    u.over.addEventListener("wheel", function (e) {
      e.preventDefault();
      var min = u.scales.x.min, max = u.scales.x.max;
      var at = u.posToVal(e.offsetX, "x"), f = e.deltaY < 0 ? 0.75 : 1 / 0.75;
      show(at - (at - min) * f, at + (max - at) * f);
    }, { passive: false });
    u.over.addEventListener("dblclick", function () { show(full[0], full[1]); });

    fig.querySelectorAll(".iplot-tools button").forEach(function (b) {
      b.addEventListener("click", function () {
        var min = u.scales.x.min, max = u.scales.x.max, mid = (min + max) / 2, span = max - min;
        var zoom = b.getAttribute("data-zoom"), pan = b.getAttribute("data-pan");
        if (zoom === "all") show(full[0], full[1]);
        else if (zoom === "day") show(mid - DAY / 2, mid + DAY / 2);
        else if (zoom === "in") show(mid - span / 4, mid + span / 4);
        else if (zoom === "out") show(mid - span, mid + span);
        else if (pan) show(min + Number(pan) * span / 2, max + Number(pan) * span / 2);
      });
    });

    if (typeof ResizeObserver !== "undefined") {
      new ResizeObserver(function () {
        var w = Math.max(holder.clientWidth, 300);
        if (w !== u.width) u.setSize({ width: w, height: 320 });
      }).observe(holder);
    }
    fig.setAttribute("data-drawn", "uplot");
  }

  document.querySelectorAll("figure[data-chart^='price-']").forEach(function (fig) {
    try {
      priceChart(fig);
    } catch (err) {
      var note = document.createElement("p");
      note.className = "note";
      note.textContent = "This chart failed in the browser (" + err + ").";
      fig.insertBefore(note, fig.firstChild);
      throw err;  // still reported in the console, where the browser test looks
    }
  });
})();
