/* The plain map of merchants (merchants/map.html): a click on the SVG fills in the WGS-84
   longitude and latitude of that point (the inverse of merchants.views._project) and puts a
   pin there; the form then saves it for the chosen merchant or elder. No map tiles, no CDN. */
(function () {
  "use strict";
  var form = document.getElementById("locate-form");
  var svg = document.getElementById("plain-map");
  if (!form || !svg || !form.dataset.box) return;
  var box = form.dataset.box.split(",").map(Number); // min_lat, max_lat, min_lng, max_lng
  var W = Number(form.dataset.w), H = Number(form.dataset.h);
  var k = Math.cos(((box[0] + box[1]) / 2) * Math.PI / 180);
  var widthM = (box[3] - box[2]) * k, heightM = box[1] - box[0];
  var scale = Math.min(W / widthM, H / heightM);
  var ox = (W - widthM * scale) / 2, oy = (H - heightM * scale) / 2;
  var lngInput = document.getElementById("locate-lng");
  var latInput = document.getElementById("locate-lat");
  var status = document.getElementById("locate-status");
  var pin = document.getElementById("map-pin");
  var target = document.getElementById("locate-target");

  function toSvg(event) {
    var pt = svg.createSVGPoint();
    pt.x = event.clientX;
    pt.y = event.clientY;
    return pt.matrixTransform(svg.getScreenCTM().inverse());
  }

  svg.addEventListener("click", function (event) {
    var p = toSvg(event);
    var lng = box[2] + (p.x - ox) / (k * scale);
    var lat = box[0] + (H - oy - p.y) / scale;
    lngInput.value = lng.toFixed(6);
    latInput.value = lat.toFixed(6);
    pin.innerHTML = "";
    var ns = "http://www.w3.org/2000/svg";
    var c = document.createElementNS(ns, "circle");
    c.setAttribute("cx", p.x);
    c.setAttribute("cy", p.y);
    c.setAttribute("r", 10);
    c.setAttribute("fill", "none");
    c.setAttribute("stroke", "#111");
    c.setAttribute("stroke-width", 3);
    pin.appendChild(c);
    status.textContent = target && target.value ? "" : status.textContent;
  });

  form.addEventListener("submit", function () {
    var parts = (target.value || ":").split(":");
    document.getElementById("locate-what").value = parts[0];
    document.getElementById("locate-id").value = parts[1];
  });
})();
