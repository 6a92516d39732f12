// 养老服务 pages: the visit's place from the phone's geolocation when the carer allows it; the
// confirmed address typed in the field stays the place otherwise.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var place = document.querySelector("input[data-geo]");
    var gps = document.getElementById("visit-gps");
    var note = document.getElementById("geo-note");
    if (!place || !gps) return;
    var say = function (t) { if (note) note.textContent = t; };
    if (!navigator.geolocation) { say("无法获取定位，将以确认的地址为服务地点。"); return; }
    say("正在获取定位……");
    navigator.geolocation.getCurrentPosition(function (p) {
      gps.value = p.coords.latitude.toFixed(5) + "," + p.coords.longitude.toFixed(5);
      say("已使用手机定位：" + gps.value);
    }, function () {
      say("未获得定位授权，将以确认的地址为服务地点。");
    }, { enableHighAccuracy: true, timeout: 8000, maximumAge: 60000 });
  });
})();
