// bg.js: beacongate's first-party tag. It reads the page's own consent
// sources (IAB TCF, GPP, Global Privacy Control, Google Consent Mode, an
// explicit bg('consent', [...]) call), sends page views and bg('track', ...)
// events to the gateway that served it (POST /b, JSON array, text/plain so no
// CORS preflight), and decides nothing itself: the gateway applies the
// policy. It stores nothing unless device_storage is granted, and reads ad
// identifiers only when the gateway would grant ads from every signal the
// tag sees.
//
// This file is the source. bg.min.js is generated from it by
// `go generate ./tag` (esbuild) and committed; a test fails when it is stale.
//
// Every entry point is wrapped in guard(): the tag never throws into the page.
(function (w, d, nav) {
  'use strict';
  // The whole start is guarded too: nothing here may throw into the page.
  try {

    var has = Object.prototype.hasOwnProperty;

    // guard wraps f so that nothing it throws reaches the page.
    function guard(f) {
      return function () {
        try {
          return f.apply(this, arguments);
        } catch (e) {
          return undefined;
        }
      };
    }

    var prev = w.bg;
    if (prev && prev.v) {
      return; // loaded twice: the first copy keeps running
    }

    var script = d.currentScript;
    var data = (script && script.dataset) || {};
    var src = (script && script.src) || '';
    var timeout = parseInt(data.consentTimeout, 10);
    var cfg = {
      site: data.site || location.hostname,
      // b beside the script (a URL: sendBeacon and fetch take one): /b, or
      // /collect/b for a gateway a proxy serves under /collect/.
      endpoint: data.endpoint || (src ? new URL('b', src) : '/b'),
      timeout: timeout >= 0 ? timeout : 500,
    };

    // Click ids that ad platforms add to landing URLs.
    var CLICK_IDS = ['gclid', 'gbraid', 'wbraid', 'dclid', 'fbclid', 'msclkid', 'ttclid', 'twclid', 'li_fat_id', 'epik', 'yclid'];
    // First-party ad cookies, read only with ads consent.
    var AD_COOKIES = ['_fbp', '_fbc', '_ttp', '_ga'];
    // The purpose names the gateway knows in an explicit list.
    var PURPOSES = ['analytics', 'ads', 'personalization', 'precise_geo', 'device_storage'];
    var STORE_KEY = 'bg_cid';
    var MAX_PROPS = 64;
    var MAX_BATCH = 50; // the gateway's default server.max_events_per_request
    // Bytes per body: under the gateway's default server.max_body_bytes and
    // the browsers' 64 KiB beacon quota (a larger body is refused by both).
    var MAX_BODY = 60000;
    // Bytes all of an event's properties may take as JSON (names counted
    // unescaped): with its longest URL and referrer (4096 bytes each), TC
    // and GPP strings (8192 each), escaped names and the rest, one event
    // stays under MAX_BODY. The limits of each property alone leave room
    // for more than 64 KiB (64 of them, and a quote or a newline takes two
    // bytes in JSON), a body that the beacon and keepalive quotas and the
    // gateway all refuse: the event was lost whole.
    var MAX_PROPS_JSON = 30000;

    // Consent as the page's sources last told it. null: that source said nothing.
    // gdpr is the CMP's gdprApplies as it says it: true, false, or
    // undefined when it does not know, which is sent as no flag at all
    // (JSON.stringify leaves it out), so that the gateway takes a TC string
    // to mean GDPR applies; never a gdpr=0 the CMP did not say.
    var tcf = null; // {gdpr: bool|undefined, tc: string, p: {purpose id: bool}}
    var gpp = null; // {s: string, sid: string}
    var gcm = null; // {ad_storage: 'granted'|'denied', ...}
    var explicit = null; // array of purpose names
    var answered = false; // the banner answered, or the wait timed out
    var tcfOn = false;
    var gppOn = false;

    var queue = [];
    var scheduled = false;
    var gone = false; // the page is hidden or being unloaded
    var lastURL = location.href;
    var landing = new URL(location.href);

    // newID returns 22 base64url characters from 16 random bytes (every
    // browser with sendBeacon has crypto.getRandomValues).
    function newID() {
      var b = crypto.getRandomValues(new Uint8Array(16));
      return btoa(String.fromCharCode.apply(null, b)).slice(0, 22).replace(/\+/g, '-').replace(/\//g, '_');
    }

    // size returns the length of s in UTF-8, the unit of the gateway's limits
    // (each byte of a character encodeURIComponent escapes is one %XX), or
    // Infinity when s holds an unpaired surrogate (a string cut in the
    // middle of an emoji), for which encodeURIComponent throws:
    // JSON.stringify writes it as an escape such as "\ud83d", for which the
    // gateway refuses the whole request, so no limit lets it through.
    function size(s) {
      try {
        return encodeURIComponent(s).replace(/%../g, '-').length;
      } catch (e) {
        return Infinity;
      }
    }

    // cleanProps keeps own properties whose values are strings, numbers
    // (finite) or booleans, within the gateway's limits (at most 64, names of
    // 1-64 bytes, strings of at most 1024 bytes: one over them makes it
    // refuse the whole request) and within MAX_PROPS_JSON bytes of JSON
    // together; everything else is dropped.
    function cleanProps(p, out) {
      out = out || {};
      if (!p || typeof p !== 'object') return out;
      var n = 0;
      var b = 0;
      for (var k in out) {
        n++;
        b += size(k + JSON.stringify(out[k]));
      }
      for (k in p) {
        if (n >= MAX_PROPS) break;
        if (!has.call(p, k) || !k || size(k) > 64) continue;
        var v = p[k];
        var t = typeof v;
        if ((t === 'string' && size(v) <= 1024) || t === 'boolean' || (t === 'number' && isFinite(v))) {
          var m = size(k + JSON.stringify(v));
          if (b + m <= MAX_PROPS_JSON) {
            out[k] = v;
            n++;
            b += m;
          }
        }
      }
      return out;
    }

    // gcmGranted reads one Consent Mode type: true granted, false denied or unset.
    function gcmGranted(type) {
      return gcm[type] === 'granted';
    }

    // dnt tells whether the browser says Do Not Track (it then sends DNT: 1).
    function dnt() {
      var v = nav.doNotTrack || w.doNotTrack || nav.msDoNotTrack;
      return v === '1' || v === 'yes';
    }

    // adsVetoed tells whether a signal the tag sees keeps the gateway from
    // granting ads whatever the others say: GPC or DNT (they remove ads), or
    // a GPP string (the gateway decodes its sections, the tag cannot: fail
    // closed).
    function adsVetoed() {
      return !!(nav.globalPrivacyControl || dnt() || gpp);
    }

    // explicitBad tells whether the explicit list has a name the gateway does
    // not know ('none' among others too): it reads the list as malformed, a
    // refusal of every purpose.
    function explicitBad() {
      for (var i = 0; explicit && i < explicit.length; i++) {
        if (PURPOSES.indexOf(explicit[i]) < 0) return true;
      }
      return false;
    }

    // granted tells whether every consent source that speaks grants purpose
    // (the gateway's most_restrictive merge): true, false when one refuses,
    // null when none speaks (not granted either). Only 'ads' and
    // 'device_storage' are asked: they decide what the tag itself reads and
    // stores. Ads are granted only when the gateway would grant them from
    // every signal the tag sees.
    // A TCF answer that gdpr applies without a TC string is malformed for
    // the gateway, as is an explicit list with a name it does not know: a
    // refusal of every purpose, device_storage too.
    function granted(purpose) {
      var ads = purpose === 'ads';
      if ((ads && adsVetoed()) || (tcf && tcf.gdpr && !tcf.tc) || explicitBad()) return false;
      var any = false;
      var ok = true;
      if (explicit) {
        any = true;
        ok = explicit.indexOf(purpose) >= 0;
      }
      if (tcf && tcf.tc) {
        any = true;
        var need = ads ? [1, 3, 4, 7] : [1];
        for (var i = 0; i < need.length; i++) ok = ok && !!tcf.p[need[i]];
      }
      if (gcm) {
        any = true;
        // The gateway reads an unset type in gcd as denied: ads need all
        // three ad types granted.
        ok = ok && gcmGranted('ad_storage') && (ads ? gcmGranted('ad_user_data') && gcmGranted('ad_personalization') : gcmGranted('analytics_storage'));
      }
      if (gpp && !tcf && !explicit && !gcm) {
        any = true;
        ok = false; // the tag does not decode GPP itself: fail closed locally
      }
      return any ? ok : null;
    }

    // clientID returns the one first-party id, kept in localStorage only with
    // device_storage consent. A source that refuses it removes any stored
    // id; before any source speaks (a banner slower than the wait) a stored
    // id is kept but not sent, so a returning visitor keeps it.
    function clientID() {
      var s;
      try {
        s = w.localStorage;
        var g = granted('device_storage');
        if (!g) {
          if (g === false) s.removeItem(STORE_KEY);
          return '';
        }
        var id = s.getItem(STORE_KEY);
        if (!id || !/^[A-Za-z0-9_-]{22}$/.test(id)) {
          id = newID();
          s.setItem(STORE_KEY, id);
        }
        return id;
      } catch (e) {
        return ''; // storage blocked or sandboxed
      }
    }

    // cookie reads one cookie; a value that is not valid percent-encoding
    // (decodeURIComponent throws) is taken as it is.
    function cookie(name) {
      var m = d.cookie.match(new RegExp('(?:^|; )' + name + '=([^;]*)'));
      if (!m) return '';
      try {
        return decodeURIComponent(m[1]);
      } catch (e) {
        return m[1];
      }
    }

    // adIDs adds the ad cookies and landing-page click ids to the event's
    // properties, within the same limits (an id that does not fit is left out).
    function adIDs(out) {
      var ids = {};
      for (var i = 0; i < AD_COOKIES.length; i++) {
        var v = cookie(AD_COOKIES[i]);
        if (v) ids[AD_COOKIES[i]] = v;
      }
      for (i = 0; i < CLICK_IDS.length; i++) {
        v = landing.searchParams.get(CLICK_IDS[i]);
        if (v) ids[CLICK_IDS[i]] = v;
      }
      cleanProps(ids, out);
    }

    // stripClickIDs removes ad click ids from a URL sent without ads consent.
    function stripClickIDs(href) {
      try {
        var u = new URL(href);
        var changed = false;
        for (var i = 0; i < CLICK_IDS.length; i++) {
          if (u.searchParams.has(CLICK_IDS[i])) {
            u.searchParams.delete(CLICK_IDS[i]);
            changed = true;
          }
        }
        return changed ? u.href : href;
      } catch (e) {
        return href;
      }
    }

    // fitURL keeps a URL within the gateway's 4096 bytes (a longer one makes
    // it refuse the whole request): without its query and fragment, or its
    // origin alone, when it is longer.
    function fitURL(href) {
      if (!href || size(href) <= 4096) return href;
      href = href.split(/[?#]/)[0];
      if (size(href) <= 4096) return href;
      try {
        return new URL(href).origin + '/';
      } catch (e) {
        return '';
      }
    }

    // gcmLetter encodes one type for gcd: unset default, update granted (n),
    // denied (m) or unset (l).
    function gcmLetter(type) {
      var v = gcm[type];
      return v === 'granted' ? 'n' : v === 'denied' ? 'm' : 'l';
    }

    // addConsent puts what is known now into the event, in the gateway's
    // request vocabulary.
    function addConsent(e) {
      // explicit is never changed in place (bg('consent') makes a new one).
      if (explicit) e.consent = explicit.length ? explicit : ['none'];
      if (tcf) {
        e.gdpr = tcf.gdpr;
        if (tcf.tc) e.gdpr_consent = tcf.tc;
      }
      if (gpp) {
        e.gpp = gpp.s;
        if (gpp.sid) e.gpp_sid = gpp.sid;
      }
      if (gcm) {
        e.gcs = 'G1' + +gcmGranted('ad_storage') + +gcmGranted('analytics_storage');
        e.gcd = '13' + gcmLetter('ad_storage') + '3' + gcmLetter('analytics_storage') + '3' + gcmLetter('ad_user_data') + '3' + gcmLetter('ad_personalization') + '5';
      }
    }

    function send(body) {
      var ok = false;
      try {
        ok = nav.sendBeacon(cfg.endpoint, body);
      } catch (e) {}
      if (!ok && w.fetch) {
        // A string body is sent as text/plain: a simple request, no preflight.
        var post = function (keep) {
          return w.fetch(cfg.endpoint, { method: 'POST', body: body, keepalive: keep, mode: 'no-cors', credentials: 'omit' });
        };
        // keepalive shares the beacon's 64 KiB quota with every request in
        // flight: when it is used up, a plain fetch still sends the events
        // while the page stays.
        post(true)
          .catch(function () {
            return post(false);
          })
          .catch(Object); // any function that does nothing with the error
      }
    }

    // flush sends the queued events once consent is answered (or the wait timed
    // out); force sends them whatever is known, when the page goes away.
    function flush(force) {
      scheduled = false;
      if (!queue.length || !(answered || force)) return;
      // A CMP that loaded after the wait (or after an earlier answer) is
      // listened to from now on.
      poll();
      var ads = granted('ads');
      var cid = clientID();
      var batch = queue.splice(0, queue.length);
      for (var i = 0; i < batch.length; i++) {
        var e = batch[i];
        e.site = cfg.site;
        addConsent(e);
        if (cid) e.cid = cid;
        if (ads) {
          adIDs(e.props);
        } else {
          e.url = stripClickIDs(e.url);
          e.ref = stripClickIDs(e.ref);
        }
        e.url = fitURL(e.url);
        e.ref = fitURL(e.ref);
        if (!e.ref) delete e.ref;
      }
      // At most MAX_BATCH events and MAX_BODY bytes per request.
      var part = [];
      var n = 2;
      for (i = 0; i < batch.length; i++) {
        var one = JSON.stringify(batch[i]);
        var m = size(one) + 1;
        if (part.length && (part.length >= MAX_BATCH || n + m > MAX_BODY)) {
          send('[' + part.join(',') + ']');
          part = [];
          n = 2;
        }
        part.push(one);
        n += m;
      }
      if (part.length) send('[' + part.join(',') + ']');
    }

    // schedule sends the events fired together in one request; once the
    // page is going away (gone) each one leaves at once: a timer may never
    // run again in a page that is being unloaded.
    function schedule() {
      if (gone) flush(true);
      else if (!scheduled) {
        scheduled = true;
        setTimeout(guard(flush), 0); // events fired together leave together
      }
    }

    // answer is called on every answer of a consent source. A withdrawal
    // removes the stored id at once, not at the next event (there may be
    // none on this page).
    function answer() {
      clientID();
      if (!answered) {
        answered = true;
        schedule();
      }
    }

    // track queues one event and returns its id. ref overrides the referrer
    // (a single-page app's previous URL). A name the gateway would refuse the
    // whole request for (over 128 bytes, a control character, an unpaired
    // surrogate) queues nothing.
    function track(name, props, opts, ref) {
      if (typeof name !== 'string' || !name || size(name) > 128 || /[\0-\x1f\x7f-\x9f]/.test(name)) return undefined;
      var eid = opts && typeof opts.eid === 'string' && /^[A-Za-z0-9_-]{8,64}$/.test(opts.eid) ? opts.eid : newID();
      queue.push({ event: name, url: location.href, ref: ref === undefined ? d.referrer : ref, eid: eid, props: cleanProps(props) });
      schedule();
      try {
        // The page can share each id, also of automatic page views, e.g.
        // addEventListener('bg:event', e => fbq(..., {eventID: e.detail.eid})).
        w.dispatchEvent(new CustomEvent('bg:event', { detail: { event: name, eid: eid } }));
      } catch (e) {}
      return eid;
    }

    // page tracks a page view. After a route change (pushState, popstate,
    // or the page's own bg('page') in an app that sends its page views) the
    // referrer is the previous URL, not the document's.
    function page(props, opts) {
      var ref = lastURL;
      lastURL = location.href;
      return track('pageview', props, opts, ref === lastURL ? undefined : ref);
    }

    function tcfListen() {
      if (tcfOn || typeof w.__tcfapi !== 'function') return;
      tcfOn = true;
      w.__tcfapi('addEventListener', 2, guard(function (t, ok) {
        if (!ok || !t) return;
        var s = t.eventStatus;
        if (s === 'tcloaded' || s === 'useractioncomplete' || t.gdprApplies === false) {
          tcf = { gdpr: t.gdprApplies, tc: t.tcString || '', p: (t.purpose && t.purpose.consents) || {} };
          answer();
        }
      }));
    }

    function gppListen() {
      if (gppOn || typeof w.__gpp !== 'function') return;
      gppOn = true;
      w.__gpp('addEventListener', guard(function (ev, ok) {
        var p = ev && ev.pingData;
        if (ok === false || !p || p.signalStatus !== 'ready') return;
        gpp = { s: p.gppString || '', sid: (p.applicableSections || []).join(',') };
        answer();
      }));
    }

    // scanGCM reads the Consent Mode state from gtag's consent commands in the
    // dataLayer; an 'update' is the banner's answer. As gtag does, an update
    // wins over any default, and a default for some regions (its region
    // parameter) over the global one, whatever their order. Those regions'
    // visitors gtag places and the tag cannot: such a default may deny a
    // type, never grant one.
    function scanGCM() {
      var dl = w.dataLayer;
      if (!dl || !dl.length) return;
      var st = [{}, {}, {}]; // global default, region default, update
      var seen = false;
      var upd = false;
      for (var i = 0; i < dl.length; i++) {
        var c = dl[i];
        if (c && c[0] === 'consent' && (c[1] === 'default' || c[1] === 'update') && c[2] && typeof c[2] === 'object') {
          var u = c[1] === 'update';
          var r = !u && c[2].region;
          var only = r && typeof r.length === 'number' && r.length > 0;
          var o = st[u ? 2 : only ? 1 : 0];
          for (var k in c[2]) if (typeof c[2][k] === 'string' && (!only || c[2][k] === 'denied')) o[k] = c[2][k];
          seen = true;
          upd = upd || u;
        }
      }
      if (seen && !gcmHook) gcm = Object.assign({}, st[0], st[1], st[2]);
      if (upd) answer();
    }
    var gcmHook = false;

    // poll looks for each source on its own: a CMP API that throws (a stub
    // not ready yet) must not keep the others, or the tag's start, from
    // running.
    var pollTCF = guard(tcfListen);
    var pollGPP = guard(gppListen);
    var pollGCM = guard(scanGCM);
    function poll() {
      pollTCF();
      pollGPP();
      pollGCM();
    }

    var commands = {
      track: track,
      page: page,
      consent: function (list) {
        if (typeof list === 'string') list = list.split(',');
        if (!list || typeof list.length !== 'number') return;
        // Names as the gateway reads them: in any case, spaces around
        // them ignored ('Analytics, Ads' grants both there).
        explicit = [];
        for (var i = 0; i < list.length; i++) {
          if (typeof list[i] === 'string') explicit.push(list[i].replace(/^ +| +$/g, '').toLowerCase());
        }
        // 'none' alone refuses (sent as none); with other names it is sent
        // as is, and the gateway reads the list as malformed: a refusal.
        if (explicit.length === 1 && explicit[0] === 'none') explicit = [];
        answer();
      },
      gcm: function (state) {
        if (!state || typeof state !== 'object') return;
        gcm = cleanProps(state, gcm || {});
        gcmHook = true;
        answer();
      },
      flush: function () {
        flush(true);
      },
    };

    var bg = guard(function (cmd) {
      var f = typeof cmd === 'string' && has.call(commands, cmd) && commands[cmd];
      return f ? f.apply(null, Array.prototype.slice.call(arguments, 1)) : undefined;
    });
    bg.v = 1;
    w.bg = bg;

    guard(function () {
      poll();
      var ticks = 0;
      var iv = setInterval(guard(function () {
        poll();
        if (answered || ++ticks * 100 >= cfg.timeout) clearInterval(iv);
      }), 100);
      setTimeout(guard(function () {
        answered = true;
        flush();
      }), cfg.timeout);

      // Calls made before the tag loaded, through the snippet's stub.
      var q = (prev && prev.q) || [];
      for (var i = 0; i < q.length; i++) bg.apply(null, q[i]);
      // data-pageview="off": the page sends its own page views (bg('page')),
      // on load and on route changes alike.
      if (data.pageview !== 'off') {
        page();

        // Single-page apps: a new URL by pushState or back/forward is a page view.
        var onNav = guard(function () {
          if (location.href !== lastURL) page();
        });
        var push = history.pushState;
        history.pushState = function () {
          var r = push.apply(this, arguments);
          onNav();
          return r;
        };
        w.addEventListener('popstate', onNav);
      }

      // Nothing is lost when the page goes away: send at once, and so
      // every event the page fires from then on (its own pagehide or
      // visibilitychange handlers run after the tag's) until it is shown.
      var leave = guard(function () {
        gone = true;
        flush(true);
      });
      w.addEventListener('pagehide', leave);
      d.addEventListener('visibilitychange', function () {
        // Shown again (another tab, or back from the back/forward cache).
        if (d.visibilityState === 'hidden') leave();
        else gone = false;
      });
    })();
  } catch (err) {}
})(window, document, navigator);
