// The header clock runs in the browser (no server round trip each second), in the city's zone.
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  citybrain: {
    clock: function (_n, timeZone) {
      const parts = {};
      new Intl.DateTimeFormat("zh-CN", {
        timeZone: timeZone || undefined, hour12: false, weekday: "long",
        year: "numeric", month: "2-digit", day: "2-digit",
        hour: "2-digit", minute: "2-digit", second: "2-digit",
      }).formatToParts(new Date()).forEach((p) => { parts[p.type] = p.value; });
      return `${parts.year}-${parts.month}-${parts.day} ${parts.weekday} ` +
        `${parts.hour}:${parts.minute}:${parts.second}`;
    },
  },
});
