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
      if (data.approximate) box.appendChild(el("div", "rollout-approximate", data.approximate));
      if (data.aggregated) box.appendChild(el("div", "rollout-aggregated", data.aggregated));
      return box;
    });
  }

  function legendControl(data) {
    return control("bottomright", function () {
      var box = el("div", "rollout-legend leaflet-bar");
      data.legend.forEach(function (section) {
        box.appendChild(el("div", "rollout-legend-heading", section.heading));
        section.items.forEach(function (item) {
          var line = el("div", "rollout-legend-item");
          var swatch = el("span", "rollout-swatch " + (item.className || ""));
          if (item.color) swatch.style.background = item.color;
          line.appendChild(swatch);
          line.appendChild(el("span", null, item.label));
          box.appendChild(line);
        });
      });
      return box;
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

  window.rolloutSites = function (map, groups, data) {
    var sites = {};
    ["macro", "garage"].forEach(function (kind) {
      var spec = data[kind];
      sites[kind] = spec.aggregated ? addCells(kind, spec, groups[kind], data) : addMarkers(kind, spec, groups[kind], data);
    });
    titleControl(data).addTo(map);
    searchControl(data, sites).addTo(map);
    fullscreenControl(data).addTo(map);
    legendControl(data).addTo(map);
    window.__rollout = {
      map: map,
      sites: sites,
      siteCount: function (kind) { return siteCount(sites[kind]); },
    };
  };
})();
