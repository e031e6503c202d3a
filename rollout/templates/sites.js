/* rollout map: site layers, popups, legend, title, search and fullscreen.
 *
 * Everything taken from site files is put on the page with textContent, never innerHTML,
 * so markup in a site name shows as text. No contact or phone data is
 * ever passed to this script.
 */
(function () {
  "use strict";

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function popupContent(spec, row, data) {
    var box = el("div", "site-popup");
    box.appendChild(el("div", "site-popup-title", row[3] || row[2]));
    if (row[5]) box.appendChild(el("div", "site-popup-changed", data.labels.changed));
    var table = el("table");
    var pairs = [[data.labels.id, row[2]], [data.labels.status, spec.statusLabels[row[4]] || row[4]]];
    for (var i = 0; i < spec.fields.length; i++) pairs.push([spec.fields[i], row[6 + i]]);
    pairs.forEach(function (pair) {
      if (pair[1] === "" || pair[1] === null || pair[1] === undefined) return;
      var tr = el("tr");
      tr.appendChild(el("th", null, pair[0]));
      tr.appendChild(el("td", null, pair[1]));
      table.appendChild(tr);
    });
    box.appendChild(table);
    return box;
  }

  function addMarkers(kind, spec, group, data) {
    var clustered = spec.rows.length > data.clusterThreshold;
    var target = clustered
      ? L.markerClusterGroup({ chunkedLoading: true, showCoverageOnHover: false, disableClusteringAtZoom: 17, maxClusterRadius: 50 })
      : L.layerGroup();
    var markers = new Array(spec.rows.length);
    for (var i = 0; i < spec.rows.length; i++) {
      var row = spec.rows[i];
      var icon = L.divIcon({
        className: "site-marker " + kind + " status-" + row[4] + (row[5] ? " changed" : ""),
        iconSize: kind === "macro" ? [12, 12] : [13, 13],
      });
      var marker = L.marker([row[0], row[1]], { icon: icon, title: row[2], keyboard: false });
      marker.bindPopup(popupContent.bind(null, spec, row, data), { maxWidth: 340 });
      marker.siteId = String(row[2]);
      marker.siteName = String(row[3] || "");
      markers[i] = marker;
    }
    if (clustered) target.addLayers(markers);
    else markers.forEach(function (m) { target.addLayer(m); });
    group.addLayer(target);
    return { layer: target, markers: markers, clustered: clustered };
  }

  function shareColor(share, data) {
    var pct = share * 100;
    var color = data.pctColors[0];
    for (var i = 0; i < data.pctBins.length; i++) if (pct >= data.pctBins[i]) color = data.pctColors[i];
    return color;
  }

  function cellPopup(spec, cell, total, data) {
    var box = el("div", "site-popup");
    box.appendChild(el("div", "site-popup-title", data.labels.cell + " · " + total));
    var table = el("table");
    spec.statuses.forEach(function (status, i) {
      if (!cell[2 + i]) return;
      var tr = el("tr");
      tr.appendChild(el("th", null, spec.statusLabels[status] || status));
      tr.appendChild(el("td", null, cell[2 + i]));
      table.appendChild(tr);
    });
    box.appendChild(table);
    return box;
  }

  /* Many sites: one canvas circle per grid cell, sized by its count and coloured by the share done. */
  function addCells(kind, spec, group, data) {
    var renderer = L.canvas({ padding: 0.5 });
    var layer = L.layerGroup();
    var doneAt = spec.done.map(function (s) { return spec.statuses.indexOf(s); });
    spec.cells.forEach(function (cell) {
      var total = 0;
      for (var i = 2; i < cell.length; i++) total += cell[i];
      var done = doneAt.reduce(function (n, j) { return n + cell[2 + j]; }, 0);
      var circle = L.circleMarker([cell[0], cell[1]], {
        renderer: renderer, radius: 2 + Math.sqrt(total) * 1.5, color: "#333333", weight: 0.5,
        fillColor: shareColor(total ? done / total : 0, data), fillOpacity: 0.85,
      });
      circle.bindPopup(cellPopup.bind(null, spec, cell, total, data));
      circle.siteCount = total;
      layer.addLayer(circle);
    });
    group.addLayer(layer);
    var markers = spec.index.map(function (row) {
      return { siteId: String(row[2]), siteName: "", latlng: L.latLng(row[0], row[1]), status: row[3] };
    });
    return { layer: layer, markers: markers, clustered: false, aggregated: true };
  }

  function siteCount(entry) {
    if (entry.aggregated) return entry.layer.getLayers().reduce(function (n, c) { return n + c.siteCount; }, 0);
    return entry.layer.getLayers().length;
  }

  function control(position, build) {
    var Control = L.Control.extend({
      options: { position: position },
      onAdd: function (map) {
        var div = build(map);
        L.DomEvent.disableClickPropagation(div);
        L.DomEvent.disableScrollPropagation(div);
        return div;
      },
    });
    return new Control();
  }

  function titleControl(data) {
    return control("topright", function () {
      var box = el("div", "rollout-title leaflet-bar");
      box.appendChild(el("div", "rollout-title-main", data.title));
      box.appendChild(el("div", "rollout-title-sub", data.subtitle));
      (data.notes || []).forEach(function (note) { box.appendChild(el("div", "rollout-title-note", note)); });
      if (data.approximate) box.appendChild(el("div", "rollout-approximate", data.approximate));
      if (data.aggregated) box.appendChild(el("div", "rollout-aggregated", data.aggregated));
      var offline = el("div", "rollout-offline", data.labels.tilesOffline);
      offline.hidden = true;
      box.appendChild(offline);
      return box;
    });
  }

  /* The legend: each section (or item) tied to a layer shows only while that layer is on. */
  function legendControl(map, data, layers) {
    var parts = [];
    function on(key) { return !key || !layers[key] || map.hasLayer(layers[key]); }
    function section(spec) {
      var box = el("div", "rollout-legend-section" + (spec.ramp ? " ramp" : ""));
      if (spec.heading) box.appendChild(el("div", "rollout-legend-heading", spec.heading));
      var list = el("div", spec.ramp ? "rollout-ramp" : "rollout-legend-items");
      spec.items.forEach(function (item) {
        var line = el("div", spec.ramp ? "rollout-ramp-step" : "rollout-legend-item");
        var swatch = el("span", "rollout-swatch " + (item.className || ""));
        if (item.color) swatch.style.background = item.color;
        line.appendChild(swatch);
        line.appendChild(el("span", "rollout-legend-label", item.label));
        list.appendChild(line);
        if (item.layer) parts.push({ node: line, layer: item.layer });
      });
      box.appendChild(list);
      parts.push({ node: box, layer: spec.layer, section: true, items: list });
      return box;
    }
    var legend = control("bottomright", function () {
      var box = el("div", "rollout-legend leaflet-bar");
      data.legend.forEach(function (spec) {
        if (spec.row) {
          var row = el("div", "rollout-legend-row");
          spec.row.forEach(function (inner) { row.appendChild(section(inner)); });
          box.appendChild(row);
        } else {
          box.appendChild(section(spec));
        }
      });
      return box;
    });
    legend.update = function () {
      parts.forEach(function (part) { if (!part.section) part.node.hidden = !on(part.layer); });
      parts.forEach(function (part) {
        if (!part.section) return;
        var shown = [].some.call(part.items.children, function (child) { return !child.hidden; });
        part.node.hidden = !on(part.layer) || !shown;
      });
      var box = legend.getContainer();
      box.hidden = ![].some.call(box.querySelectorAll(".rollout-legend-section"), function (node) { return !node.hidden; });
    };
    return legend;
  }

  /* Keep the legend (bottom right) clear of the title and layer list (top right): its height
     is what the map leaves between them; it scrolls when it needs more. */
  function fitLegend(map, legend) {
    var container = map.getContainer();
    var box = legend.getContainer();
    var top = container.querySelector(".leaflet-top.leaflet-right");
    var bottom = container.querySelector(".leaflet-bottom.leaflet-right");
    var mapBox = container.getBoundingClientRect();
    var used = top ? top.getBoundingClientRect().bottom - mapBox.top : 0;
    var below = 0;
    if (bottom) [].forEach.call(bottom.children, function (child) { if (child !== box) below += child.offsetHeight + 10; });
    var room = mapBox.height - used - below - 10 /* gap */ - 10 /* legend margin */;
    box.style.maxHeight = Math.max(room, 48) + "px";
  }

  /* Street names with the % done of the measure shown, in a pane above the markers. */
  function addStreetLabels(map, data, layers) {
    var pane = map.createPane("rollout-labels");
    pane.style.zIndex = 640; /* markers 600, tooltips 650, popups 700 */
    pane.style.pointerEvents = "none";
    var markers = data.streetLabels.map(function (row) {
      var box = el("div", "street-label");
      box.appendChild(el("div", "street-label-name", row[2]));
      var lines = {};
      Object.keys(row[3]).forEach(function (key) {
        lines[key] = el("div", "street-label-pct " + key, row[3][key]);
        box.appendChild(lines[key]);
      });
      var icon = L.divIcon({ className: "street-label-icon", html: box, iconSize: null });
      var marker = L.marker([row[0], row[1]], { icon: icon, pane: "rollout-labels", interactive: false, keyboard: false });
      marker.pctLines = lines;
      layers.names.addLayer(marker);
      return marker;
    });
    return function update() {
      markers.forEach(function (marker) {
        Object.keys(marker.pctLines).forEach(function (key) {
          var layer = layers[key];
          marker.pctLines[key].hidden = !(layer && map.hasLayer(layer));
        });
      });
    };
  }

  /* Tiles that fail (no network, blocked server) leave the light background and the vectors;
     the title says so, and takes it back if tiles load later. */
  function watchTiles(map, titleBox, onChange) {
    var failed = 0, loaded = 0;
    var note = titleBox.querySelector(".rollout-offline");
    function refresh() {
      var offline = failed > 0 && loaded === 0;
      if (note.hidden === !offline) return;
      note.hidden = !offline;
      map.getContainer().classList.toggle("rollout-tiles-offline", offline);
      onChange();
    }
    map.eachLayer(function (layer) {
      if (!(layer instanceof L.TileLayer)) return;
      layer.on("tileerror", function () { failed += 1; refresh(); });
      layer.on("tileload", function () { loaded += 1; refresh(); });
    });
  }

  function searchControl(data, sites) {
    return control("topleft", function (map) {
      var box = el("div", "rollout-search leaflet-bar");
      var input = el("input");
      input.type = "search";
      input.placeholder = data.labels.search;
      input.setAttribute("aria-label", data.labels.search);
      var list = el("ul", "rollout-search-results");
      box.appendChild(input);
      box.appendChild(list);
      function open(kind, marker) {
        var entry = sites[kind];
        if (entry.aggregated) {
          map.setView(marker.latlng, 17);
          var box = el("div", "site-popup");
          box.appendChild(el("div", "site-popup-title", marker.siteId));
          box.appendChild(el("div", null, data[kind].statusLabels[marker.status] || marker.status));
          L.popup().setLatLng(marker.latlng).setContent(box).openOn(map);
          return;
        }
        var show = function () { marker.openPopup(); };
        if (entry.clustered) entry.layer.zoomToShowLayer(marker, show);
        else { map.setView(marker.getLatLng(), Math.max(map.getZoom(), 16)); show(); }
      }
      input.addEventListener("input", function () {
        var query = input.value.trim().toLowerCase();
        list.textContent = "";
        if (!query) return;
        var shown = 0;
        ["macro", "garage"].forEach(function (kind) {
          sites[kind].markers.forEach(function (marker) {
            if (shown >= 10) return;
            if (marker.siteId.toLowerCase().indexOf(query) < 0 && marker.siteName.toLowerCase().indexOf(query) < 0) return;
            var item = el("li", null, marker.siteId + " " + marker.siteName);
            item.addEventListener("click", function () { open(kind, marker); });
            list.appendChild(item);
            shown += 1;
          });
        });
        if (!shown) list.appendChild(el("li", "rollout-search-none", data.labels.noMatch));
      });
      return box;
    });
  }

  function fullscreenControl(data) {
    return control("topleft", function (map) {
      var box = el("div", "leaflet-bar rollout-fullscreen");
      var button = el("a");
      var svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
      svg.setAttribute("viewBox", "0 0 16 16");
      svg.setAttribute("width", "16");
      svg.setAttribute("height", "16");
      var path = document.createElementNS("http://www.w3.org/2000/svg", "path");
      path.setAttribute("d", "M1 6V1h5M10 1h5v5M15 10v5h-5M6 15H1v-5");
      path.setAttribute("fill", "none");
      path.setAttribute("stroke", "#333");
      path.setAttribute("stroke-width", "2");
      svg.appendChild(path);
      button.appendChild(svg);
      button.href = "#";
      button.title = data.labels.fullscreen;
      button.setAttribute("role", "button");
      button.addEventListener("click", function (event) {
        event.preventDefault();
        var container = map.getContainer();
        if (document.fullscreenElement) document.exitFullscreen();
        else if (container.requestFullscreen) container.requestFullscreen();
      });
      document.addEventListener("fullscreenchange", function () { map.invalidateSize(); });
      box.appendChild(button);
      return box;
    });
  }

  window.rolloutSites = function (map, layers, data) {
    var sites = {};
    ["macro", "garage"].forEach(function (kind) {
      var spec = data[kind];
      sites[kind] = spec.aggregated ? addCells(kind, spec, layers[kind], data) : addMarkers(kind, spec, layers[kind], data);
    });
    map.attributionControl.setPrefix('<a href="https://leafletjs.com" title="Leaflet">Leaflet</a>');
    L.control.scale({ metric: true, imperial: false, maxWidth: 150 }).addTo(map);
    var title = titleControl(data).addTo(map);
    /* The layer list is already in the corner: the title goes above it. */
    var corner = title.getContainer().parentNode;
    corner.insertBefore(title.getContainer(), corner.firstChild);
    searchControl(data, sites).addTo(map);
    fullscreenControl(data).addTo(map);
    var legend = legendControl(map, data, layers).addTo(map);
    var updateLabels = addStreetLabels(map, data, layers);
    /* Measuring forces a layout: do it once per frame, after the page has drawn. */
    var fitPending = false;
    function fit() {
      if (fitPending) return;
      fitPending = true;
      window.requestAnimationFrame(function () { fitPending = false; fitLegend(map, legend); });
    }
    function refresh() {
      legend.update();
      updateLabels();
      fit();
    }
    map.on("overlayadd overlayremove", refresh);
    map.on("resize", fit);
    watchTiles(map, title.getContainer(), fit);
    refresh();
    window.__rollout = {
      map: map,
      sites: sites,
      layers: layers,
      siteCount: function (kind) { return siteCount(sites[kind]); },
      fitLegend: function () { fitLegend(map, legend); },
      fitted: function () { return !fitPending; },
    };
  };
})();
