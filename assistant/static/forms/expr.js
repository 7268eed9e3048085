/* Form logic in the browser, with the server's meaning. The server parses every expression and
   sends it as a JSON tree (assistant/forms/expressions.py, to_json, format 1); this evaluates
   those trees as the server's evaluator does (ODK semantics: empty answers, numbers written as
   text, exact decimals, dates, choices) and works out which pages and questions apply as
   assistant/forms/validation.py (evaluate_state) does. It never parses expression text.
   tests/test_forms_js_semantics.py runs it under Node against the server's evaluator.
   Values: null, true/false, text, Dec (Python's int and Decimal), a JS number (Python's
   float), PyDate, arrays (lists) and plain objects (a repeat's rows). */
(function (root) {
  "use strict";
  var FORMAT = 1;
  var PREC = 28;               // Python's decimal context: 28 digits, half to even
  var MAX_MAGNITUDE = 100;     // beyond 1e100 (or below 1e-100) a value is not a number
  var MAX_NUMBER_TEXT = 120;
  var MAX_REGEX_INPUT = 2000;

  /* As ExpressionError: the rule is broken (relevance then holds, a calculation is empty). */
  function ExprError(message) { this.message = message; }
  function has(obj, key) { return Object.prototype.hasOwnProperty.call(obj, key); }

  /* ---- text as Python sees it: code points, Unicode white space and digits ---- */
  var SPACES = [[9, 13], [0x1c, 0x20], [0x85, 0x85], [0xa0, 0xa0], [0x1680, 0x1680],
    [0x2000, 0x200a], [0x2028, 0x2029], [0x202f, 0x202f], [0x205f, 0x205f], [0x3000, 0x3000]];
  function esc(cp) { return "\\u{" + cp.toString(16) + "}"; }
  function ranges(list) {
    return list.map(function (r) { return esc(r[0]) + (r[1] > r[0] ? "-" + esc(r[1]) : ""); }).join("");
  }
  function complement(list) {
    var out = [], from = 0;
    list.forEach(function (r) { if (r[0] > from) out.push([from, r[0] - 1]); from = r[1] + 1; });
    out.push([from, 0x10ffff]);
    return out;
  }
  var WS = ranges(SPACES);
  var EDGES = new RegExp("^[" + WS + "]+|[" + WS + "]+$", "gu");
  var GAPS = new RegExp("[" + WS + "]+", "u");
  var DIGIT = /\p{Nd}/u;
  var NUMERIC = /^[+-]?(?:\p{Nd}+(?:\.\p{Nd}*)?|\.\p{Nd}+)$/u;

  function strip(s) { return s.replace(EDGES, ""); }
  function words(s) { s = strip(s); return s ? s.split(GAPS) : []; }
  function length(s) { return Array.from(s).length; }
  function compareText(a, b) {  // by code point, as Python (JavaScript's < goes by UTF-16 unit)
    var i = 0;
    while (i < a.length && i < b.length) {
      var x = a.codePointAt(i), y = b.codePointAt(i);
      if (x !== y) return x < y ? -1 : 1;
      i += x > 0xffff ? 2 : 1;
    }
    return (a.length > i) - (b.length > i);
  }
  /* Any decimal digit (Arabic-Indic, Devanagari...) as its ASCII digit: Python reads them all. */
  function ascii(s) {
    return s.replace(/\p{Nd}/gu, function (d) {
      var c = d.codePointAt(0), zero = c;
      while (DIGIT.test(String.fromCodePoint(zero - 1))) zero--;
      return String((c - zero) % 10);
    });
  }

  /* ---- numbers: c × 10^e with c a BigInt, exact as Python's Decimal ---- */
  function Dec(c, e, isInt) { this.c = c; this.e = e; this.isInt = !!isInt; }
  function int(c) { return new Dec(c, 0, true); }
  var TENS = [1n];
  function ten(n) { while (TENS.length <= n) TENS.push(TENS[TENS.length - 1] * 10n); return TENS[n]; }
  function abs(c) { return c < 0n ? -c : c; }
  function size(c) { return abs(c).toString().length; }
  function adjusted(d) { return d.e + size(d.c) - 1; }
  function decOf(text) {  // ASCII text: 12, -1.50, .5, 1e+21
    var m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
    var frac = m[3] || "", c = BigInt((m[2] || "") + frac || "0");
    return new Dec(m[1] === "-" ? -c : c, (m[4] ? parseInt(m[4], 10) : 0) - frac.length);
  }
  function align(a, b) {
    var e = Math.min(a.e, b.e);
    return [a.c * ten(a.e - e), b.c * ten(b.e - e), e];
  }
  function compare(a, b) { var x = align(a, b); return x[0] < x[1] ? -1 : x[0] > x[1] ? 1 : 0; }
  /* Rounded to the context's 28 digits, half to even; ``inexact``: something nonzero was cut
     off beyond c already (a division's remainder). */
  function rounded(c, e, inexact) {
    var neg = c < 0n, n = size(c) - PREC;
    c = abs(c);
    if (n > 0) {
      var unit = ten(n), q = c / unit, r = c % unit, half = unit / 2n;
      if (r > half || (r === half && (inexact || q % 2n === 1n))) q += 1n;
      c = q;
      e += n;
      if (c === ten(PREC)) { c /= 10n; e += 1; }
    }
    return new Dec(neg ? -c : c, e);
  }
  function add(a, b) { var x = align(a, b); return rounded(x[0] + x[1], x[2]); }
  function sub(a, b) { var x = align(a, b); return rounded(x[0] - x[1], x[2]); }
  function mul(a, b) { return rounded(a.c * b.c, a.e + b.e); }
  function div(a, b) {
    var num = abs(a.c), den = abs(b.c);
    var k = Math.max(0, PREC + 1 + size(den) - size(num));
    var scaled = num * ten(k), q = scaled / den;
    return rounded((a.c < 0n) !== (b.c < 0n) ? -q : q, a.e - b.e - k, scaled % den !== 0n);
  }
  function mod(a, b) {  // the dividend's sign; no answer when the quotient needs over 28 digits
    var x = align(a, b), q = x[0] / x[1];
    return size(q) > PREC ? null : rounded(x[0] - q * x[1], x[2]);
  }
  function truncated(d) { return d.e >= 0 ? d : new Dec(d.c / ten(-d.e), 0); }
  function isWhole(d) { return d.e >= 0 || d.c % ten(-d.e) === 0n; }
  function wholeValue(d) { return d.e >= 0 ? d.c * ten(d.e) : d.c / ten(-d.e); }
  function quantize(d, exp) {  // ROUND_HALF_UP to exponent exp; null past 28 digits
    var c = d.c;
    if (d.e >= exp) c = c * ten(d.e - exp);
    else {
      var unit = ten(exp - d.e), q = abs(c) / unit;
      if (2n * (abs(c) % unit) >= unit) q += 1n;
      c = c < 0n ? -q : q;
    }
    return size(c) > PREC ? null : new Dec(c, exp);
  }
  function plain(d) {  // as Python writes it: no exponent, no trailing zeros
    if (d.c === 0n) return "0";
    var s = abs(d.c).toString(), t = s.replace(/0+$/, ""), e = d.e + s.length - t.length;
    if (e >= 0) t += "0".repeat(e);
    else {
      var point = t.length + e;
      t = point > 0 ? t.slice(0, point) + "." + t.slice(point) : "0." + "0".repeat(-point) + t;
    }
    return (d.c < 0n ? "-" : "") + t;
  }

  /* ---- dates ---- */
  function PyDate(y, m, d) { this.y = y; this.m = m; this.d = d; }
  function pad(n, w) { return String(n).padStart(w, "0"); }
  PyDate.prototype.iso = function () { return pad(this.y, 4) + "-" + pad(this.m, 2) + "-" + pad(this.d, 2); };
  function leap(y) { return y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0); }
  function monthDays(y, m) { return [31, leap(y) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]; }
  function dateOf(y, m, d) {
    return y >= 1 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= monthDays(y, m) ? new PyDate(y, m, d) : null;
  }
  function ordinal(y, m, d) {  // days since 0001-01-01, as date.toordinal() - 1
    var n = (y - 1) * 365 + Math.floor((y - 1) / 4) - Math.floor((y - 1) / 100) + Math.floor((y - 1) / 400);
    for (var i = 1; i < m; i++) n += monthDays(y, i);
    return n + d - 1;
  }
  function fromOrdinal(n) {
    var y = Math.floor(n / 365.2425) + 1;
    while (ordinal(y + 1, 1, 1) <= n) y++;
    while (ordinal(y, 1, 1) > n) y--;
    var m = 1;
    while (m < 12 && ordinal(y, m + 1, 1) <= n) m++;
    return dateOf(y, m, n - ordinal(y, m, 1) + 1);
  }
  /* date.fromisoformat() of Python 3.11, which reads 2024-01-05, 20240105, 2024-W01, 2024-W01-1
     and 2024W011 (and, as it does, ignores what follows 8 digits in 10 characters). */
  function isoDate(s) {
    if ([7, 8, 10].indexOf(s.length) < 0) return null;
    var p = 0;
    function digits(n) {
      var t = s.slice(p, p + n);
      if (t.length < n || !/^[0-9]+$/.test(t)) return null;
      p += n;
      return +t;
    }
    var y = digits(4), sep = s[4] === "-";
    if (y === null) return null;
    if (sep) p++;
    if (s[p] === "W") {
      p++;
      var week = digits(2), day = 1;
      if (week === null) return null;
      if (p < s.length && ((sep && s[p++] !== "-") || (day = digits(1)) === null)) return null;
      var jan1 = ordinal(y, 1, 1) % 7;  // 0: Monday (0001-01-01 was one)
      if (week < 1 || (week > 52 && !(week === 53 && (jan1 === 3 || (jan1 === 2 && leap(y)))))) return null;
      if (day < 1 || day > 7) return null;
      var monday = ordinal(y, 1, 4) - ordinal(y, 1, 4) % 7;
      return fromOrdinal(monday + (week - 1) * 7 + day - 1);
    }
    var m = digits(2);
    if (m === null || (sep && s[p++] !== "-")) return null;
    var d = digits(2);
    return d === null ? null : dateOf(y, m, d);
  }
  function todayInNZ() {
    var parts = {};
    try {
      var options = { timeZone: "Pacific/Auckland", year: "numeric", month: "numeric", day: "numeric" };
      new Intl.DateTimeFormat("en-NZ", options).formatToParts(new Date()).forEach(function (p) {
        parts[p.type] = +p.value;
      });
      return new PyDate(parts.year, parts.month, parts.day);
    } catch (e) {
      var now = new Date();
      return new PyDate(now.getFullYear(), now.getMonth() + 1, now.getDate());
    }
  }

  /* ---- the values' meaning ---- */
  function isMapping(v) {
    return v !== null && typeof v === "object" && !Array.isArray(v) &&
      !(v instanceof Dec) && !(v instanceof PyDate);
  }
  function isEmpty(v) {
    return v === null || v === undefined || (typeof v === "string" && strip(v) === "") ||
      (Array.isArray(v) && !v.length);
  }
  function toBool(v) {
    if (isEmpty(v)) return false;
    if (typeof v === "boolean") return v;
    if (v instanceof Dec) return v.c !== 0n;
    if (typeof v === "number") return v !== 0;  // NaN is true, as in Python
    return true;
  }
  function rawNumber(v) {
    if (typeof v === "boolean") return int(v ? 1n : 0n);
    if (v instanceof Dec) return v;
    if (typeof v === "number") return isFinite(v) ? decOf(String(v)) : null;
    if (typeof v === "string") {
      var t = strip(v);
      return t && length(t) <= MAX_NUMBER_TEXT && NUMERIC.test(t) ? decOf(ascii(t)) : null;
    }
    return null;
  }
  function toNumber(v) {
    var n = rawNumber(v);
    return n === null || (n.c !== 0n && Math.abs(adjusted(n)) > MAX_MAGNITUDE) ? null : n;
  }
  function toDate(v) {
    if (v instanceof PyDate) return v;
    if (typeof v !== "string") return null;
    var m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ]|$)/.exec(strip(v));
    return m ? dateOf(+m[1], +m[2], +m[3]) : null;
  }
  function text(v) {
    if (v === null || v === undefined) return "";
    if (typeof v === "boolean") return v ? "true" : "false";
    if (Array.isArray(v)) return v.map(text).join(" ");
    if (v instanceof Dec) return plain(v);
    if (typeof v === "number") { var n = toNumber(v); return n === null ? "" : plain(n); }
    if (v instanceof PyDate) return v.iso();
    if (isMapping(v)) return repr(v);
    return String(v);
  }
  function choices(v) {
    if (isEmpty(v)) return [];
    if (Array.isArray(v)) return v.filter(function (x) { return !isEmpty(x); }).map(text);
    return words(text(v));
  }
  /* The result as the server hands it on: whole numbers as integers, others as floats. */
  function normalise(v) {
    if (!(v instanceof Dec) || v.isInt) return v;
    if (v.c !== 0n && Math.abs(adjusted(v)) > MAX_MAGNITUDE) return null;
    return isWhole(v) ? int(wholeValue(v)) : Number(v.c + "e" + v.e);
  }
  /* Python's repr(), for text of a repeat's row (str(dict)). */
  function repr(v) {
    if (v === null || v === undefined) return "None";
    if (typeof v === "boolean") return v ? "True" : "False";
    if (v instanceof Dec) return v.isInt ? plain(v) : "Decimal('" + plain(v) + "')";
    if (typeof v === "number") return floatRepr(v);
    if (v instanceof PyDate) return "datetime.date(" + v.y + ", " + v.m + ", " + v.d + ")";
    if (Array.isArray(v)) return "[" + v.map(repr).join(", ") + "]";
    if (isMapping(v)) {
      return "{" + Object.keys(v).map(function (k) { return repr(k) + ": " + repr(v[k]); }).join(", ") + "}";
    }
    var s = String(v), q = s.indexOf("'") >= 0 && s.indexOf('"') < 0 ? '"' : "'";
    return q + Array.from(s).map(function (ch) {
      if (ch === "\\" || ch === q) return "\\" + ch;
      if (ch === "\n") return "\\n";
      if (ch === "\r") return "\\r";
      if (ch === "\t") return "\\t";
      var cp = ch.codePointAt(0);
      if (ch === " " || !/[\p{C}\p{Z}]/u.test(ch)) return ch;
      var h = cp.toString(16);
      return cp < 0x100 ? "\\x" + pad(h, 2) : cp < 0x10000 ? "\\u" + pad(h, 4) : "\\U" + pad(h, 8);
    }).join("") + q;
  }
  function floatRepr(x) {
    if (isNaN(x)) return "nan";
    if (!isFinite(x)) return x > 0 ? "inf" : "-inf";
    if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
    var m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(x.toExponential());
    var digits = m[2] + (m[3] || ""), exp = +m[4];
    if (exp < -4 || exp >= 16) {
      var mantissa = digits[0] + (digits.length > 1 ? "." + digits.slice(1) : "");
      return m[1] + mantissa + "e" + (exp < 0 ? "-" : "+") + pad(Math.abs(exp), 2);
    }
    var s = plain(decOf(m[1] + digits + "e" + (exp - digits.length + 1)));
    return s.indexOf(".") < 0 ? s + ".0" : s;
  }

  var YES = ["true", "yes", "1"], NO = ["false", "no", "0"];
  function equals(l, r) {
    if (isEmpty(l) || isEmpty(r)) return isEmpty(l) && isEmpty(r);
    if (typeof l === "boolean" || typeof r === "boolean") {
      if (typeof l === "boolean" && typeof r === "boolean") return l === r;
      var flag = typeof l === "boolean" ? l : r, word = strip(text(typeof l === "boolean" ? r : l)).toLowerCase();
      return (flag ? YES : NO).indexOf(word) >= 0;
    }
    var ln = toNumber(l), rn = toNumber(r);
    if (ln && rn) return compare(ln, rn) === 0;
    var ld = toDate(l), rd = toDate(r);
    if (ld && rd) return ld.iso() === rd.iso();
    if (Array.isArray(l) || Array.isArray(r)) {
      var a = choices(l).sort(compareText), b = choices(r).sort(compareText);
      return a.length === b.length && a.every(function (x, i) { return x === b[i]; });
    }
    return text(l) === text(r);
  }
  function order(op, l, r) {
    if (isEmpty(l) || isEmpty(r)) return false;
    var ln = toNumber(l), rn = toNumber(r), c;
    if (ln && rn) c = compare(ln, rn);
    else {
      var ld = toDate(l), rd = toDate(r);
      if (ld && rd) c = compareText(ld.iso(), rd.iso());
      else if (ln || rn) return false;  // a number against text that is not one: never ordered
      else c = compareText(text(l), text(r));
    }
    return op === "<" ? c < 0 : op === "<=" ? c <= 0 : op === ">" ? c > 0 : c >= 0;
  }
  function arith(op, l, r) {
    var a = toNumber(l), b = toNumber(r);
    if (!a || !b) return null;
    if (op === "+") return add(a, b);
    if (op === "-") return sub(a, b);
    if (op === "*") return mul(a, b);
    if (b.c === 0n) return null;
    return op === "/" ? div(a, b) : mod(a, b);
  }
  function numbersIn(values) {
    var out = [];
    values.forEach(function (v) {
      (Array.isArray(v) ? v : [v]).forEach(function (x) { var n = toNumber(x); if (n) out.push(n); });
    });
    return out;
  }
  function extreme(values, sign) {
    return numbersIn(values).reduce(function (best, n) {
      return best === null || compare(n, best) === sign ? n : best;
    }, null);
  }

  /* ---- regular expressions: Python's syntax and meaning, run by JavaScript's engine ---- */
  var WORD = "\\p{L}\\p{N}_";
  var NESTED = /\((?:[^()\\]|\\[^\n])*(?:[+*]|\{\p{Nd}*,\p{Nd}*\})\)(?:[+*]|\{\p{Nd}*,)/u;
  var SIMPLE = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, "\\": 92 };
  var patterns = new Map();

  function pattern(source) {
    if (!patterns.has(source)) {
      var made;
      try { made = compileRegex(source); } catch (e) {
        made = e instanceof ExprError ? e : new ExprError("Invalid regular expression");  // JS refused it
      }
      if (patterns.size > 200) patterns.clear();
      patterns.set(source, made);
    }
    var found = patterns.get(source);
    if (found instanceof ExprError) throw found;
    return found;
  }
  function compileRegex(source) {
    var p = Array.from(source), i = 0, flags = {}, out = "";
    if (p.length > 500) throw new ExprError("The regular expression is too long");
    if (NESTED.test(source)) throw new ExprError("The regular expression repeats a group that itself repeats");
    function bad(what) { throw new ExprError("Invalid regular expression: " + what); }
    function next() { return p[i++]; }
    function hex(n) {
      var h = p.slice(i, i + n).join("");
      if (!new RegExp("^[0-9a-fA-F]{" + n + "}$").test(h)) bad("bad escape");
      i += n;
      var cp = parseInt(h, 16);
      if (cp > 0x10ffff) bad("bad escape");
      return cp;
    }
    function octal(first, most) {
      var s = first;
      while (s.length < most && /[0-7]/.test(p[i] || "")) s += next();
      var cp = parseInt(s, 8);
      if (cp > 255) bad("octal escape out of range");
      return cp;
    }
    function asciiOnly() { return flags.a; }
    function category(c) {  // \d \D \s \S \w \W: the text of a class item, or null for \W
      var A = asciiOnly();
      if (c === "d") return A ? "0-9" : "\\p{Nd}";
      if (c === "D") return A ? ranges(complement([[48, 57]])) : "\\P{Nd}";
      if (c === "s") return A ? ranges([[9, 13], [32, 32]]) : WS;
      if (c === "S") return ranges(complement(A ? [[9, 13], [32, 32]] : SPACES));
      if (c === "w") return A ? "a-zA-Z0-9_" : WORD;
      return A ? ranges(complement([[48, 57], [65, 90], [95, 95], [97, 122]])) : null;
    }
    function charEscape(c) {  // escapes that stand for one character (inside a class or out)
      if (has(SIMPLE, c)) return SIMPLE[c];
      if (c === "x") return hex(2);
      if (c === "u") return hex(4);
      if (c === "U") return hex(8);
      if (/[0-7]/.test(c)) return octal(c, 3);
      if (/[0-9A-Za-z]/.test(c)) bad("bad escape \\" + c);
      return c.codePointAt(0);
    }
    function lit(cp) { return /[0-9A-Za-z]/.test(String.fromCodePoint(cp)) ? String.fromCodePoint(cp) : esc(cp); }
    function word() { return asciiOnly() ? "a-zA-Z0-9_" : WORD; }
    function escape() {
      var c = next();
      if (c === undefined) bad("bad escape (end of pattern)");
      if ("dDsSwW".indexOf(c) >= 0) {
        var cat = category(c);
        return cat === null ? "[^" + WORD + "]" : "[" + cat + "]";
      }
      var w = "[" + word() + "]";  // \b and \B by Python's (Unicode) idea of a word
      if (c === "b") return "(?:(?<=" + w + ")(?!" + w + ")|(?<!" + w + ")(?=" + w + "))";
      if (c === "B") return "(?:(?<=" + w + ")(?=" + w + ")|(?<!" + w + ")(?!" + w + "))";
      if (c === "A") return "^";  // no "m" flag here: ^ and $ are the text's two ends
      if (c === "Z") return "$";
      if (c === "0") return lit(octal("0", 3));
      if (/[1-9]/.test(c)) {
        if (/[0-9]/.test(p[i] || "")) {
          if (/[0-7]/.test(c) && /[0-7]/.test(p[i]) && /[0-7]/.test(p[i + 1] || "")) return lit(octal(c, 3));
          c += next();
        }
        return "(?:\\" + c + ")";  // a group reference
      }
      return lit(charEscape(c));
    }
    function klass() {
      var negate = p[i] === "^", items = "", notWord = false, first = true;
      if (negate) i++;
      function item() {
        var c = next();
        if (c === undefined) bad("unterminated character set");
        if (c !== "\\") return c.codePointAt(0);
        c = next();
        if (c === undefined) bad("unterminated character set");
        if ("dDsSwW".indexOf(c) >= 0) return { cat: category(c) };
        if (/[89]/.test(c)) bad("bad escape \\" + c);
        return c === "b" ? 8 : charEscape(c);
      }
      function put(x) {
        if (typeof x === "number") items += esc(x);
        else if (x.cat === null) notWord = true;
        else items += x.cat;
      }
      for (;;) {
        if (p[i] === "]" && !first) { i++; break; }
        first = false;
        var lo = item();
        if (p[i] === "-") {
          i++;
          if (p[i] === undefined) bad("unterminated character set");
          if (p[i] === "]") { i++; put(lo); put(45); break; }
          var hi = item();
          if (typeof lo !== "number" || typeof hi !== "number" || hi < lo) bad("bad character range");
          items += esc(lo) + "-" + esc(hi);
        } else put(lo);
      }
      if (!notWord) return "[" + (negate ? "^" : "") + items + "]";
      if (negate) return "(?:" + (items ? "(?![" + items + "])" : "") + "[" + WORD + "])";
      return items ? "(?:[" + items + "]|[^" + WORD + "])" : "[^" + WORD + "]";
    }
    function group() {
      if (p[i] !== "?") return "(";
      i++;
      var c = next(), name;
      if (c === ":" || c === "=" || c === "!") return "(?" + c;
      if (c === "<" && (p[i] === "=" || p[i] === "!")) return "(?<" + next();
      if (c === "P" && (p[i] === "<" || p[i] === "=")) {
        var kind = next(), end = kind === "<" ? ">" : ")";
        name = "";
        while (p[i] !== undefined && p[i] !== end) name += next();
        if (next() !== end || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) bad("bad group name");
        return kind === "<" ? "(?<" + name + ">" : "(?:\\k<" + name + ">)";
      }
      if (c === "#") {
        while (p[i] !== undefined && p[i] !== ")") i++;
        if (next() !== ")") bad("missing ), unterminated comment");
        return "";
      }
      // flags past the start, scoped flags, atomic groups, conditions: not run in the browser
      return bad("not supported here: (?" + (c || ""));
    }
    function repeat() {  // {m}, {m,}, {,n}, {m,n}; anything else is a plain "{"
      var j = i, lo = "", hi = "", comma = false;
      if (p[j] === "}") return lit(123);
      while (/[0-9]/.test(p[j] || "")) lo += p[j++];
      if (p[j] === ",") { comma = true; j++; while (/[0-9]/.test(p[j] || "")) hi += p[j++]; }
      if (p[j] !== "}") return lit(123);
      i = j + 1;
      return "{" + (lo || "0") + (comma ? "," + hi : "") + "}" + quantifierTail();
    }
    function quantifierTail() {
      if (p[i] === "?") { i++; return "?"; }
      if (p[i] === "+") bad("possessive repeats are not supported here");
      return "";
    }
    for (;;) {  // global flags, which Python takes only at the start: (?aimsux)
      var m = /^\(\?([aiLmsux]+)\)/.exec(p.slice(i, i + 12).join(""));
      if (!m) break;
      if (m[1].indexOf("L") >= 0) bad("bad inline flags: cannot use 'L' flag with a str pattern");
      m[1].split("").forEach(function (f) { flags[f] = true; });
      i += m[0].length;
    }
    while (i < p.length) {
      var c = next();
      if (flags.x && /[ \t\n\r\v\f]/.test(c)) continue;
      if (flags.x && c === "#") { while (i < p.length && p[i] !== "\n") i++; continue; }
      if (c === "\\") out += escape();
      else if (c === "[") out += klass();
      else if (c === "(") out += group();
      else if (c === "{") out += repeat();
      else if (c === ".") out += flags.s ? "[\\s\\S]" : "[^\\n]";
      else if (c === "^") out += flags.m ? "(?<![^\\n])" : "^";
      else if (c === "$") out += flags.m ? "(?=\\n|$)" : "(?=\\n?$)";
      else if (c === "*" || c === "+" || c === "?") out += c + quantifierTail();
      else if (c === ")" || c === "|") out += c;
      else out += lit(c.codePointAt(0));
    }
    return new RegExp(out, flags.i ? "ui" : "u");
  }

  /* ---- the evaluator ---- */
  function lookup(env, name) {
    if (has(env, name)) return env[name];
    for (var key in env) {  // a child of a repeat, from outside it: every row's value
      var rows = env[key];
      if (Array.isArray(rows) && rows.length && rows.every(isMapping) &&
          rows.some(function (r) { return has(r, name); })) {
        return rows.map(function (r) { return has(r, name) ? r[name] : null; });
      }
    }
    return null;
  }
  function scope(env, row) {  // inside one row: its own fields first, then the form's
    var out = Object.create(null), k;
    for (k in env) out[k] = env[k];
    for (k in row) out[k] = row[k];
    return out;
  }

  var FUNCTIONS = {
    selected: function (a) { return choices(a[0]).indexOf(text(a[1])) >= 0; },
    count_selected: function (a) { return int(BigInt(choices(a[0]).length)); },
    count: function (a) { return int(isEmpty(a[0]) ? 0n : Array.isArray(a[0]) ? BigInt(a[0].length) : 1n); },
    sum: function (a) { return numbersIn(a).reduce(add, new Dec(0n, 0)); },
    min: function (a) { return extreme(a, -1); },
    max: function (a) { return extreme(a, 1); },
    today: function (a, ctx) { return ctx.today(); },
    age: function (a, ctx) {
      var born = toDate(a[0]);
      if (!born) return null;
      var t = ctx.today();
      return int(BigInt(t.y - born.y - (t.m < born.m || (t.m === born.m && t.d < born.d) ? 1 : 0)));
    },
    date: function (a) { return toDate(a[0]); },
    "string-length": function (a) { return int(BigInt(length(text(a[0])))); },
    regex: function (a) {
      var t = text(a[0]);
      return length(t) > MAX_REGEX_INPUT ? false : pattern(text(a[1])).test(t);
    },
    int: function (a) { var n = toNumber(a[0]); return n && truncated(n); },
    round: function (a) {
      var n = toNumber(a[0]), places = 0;
      if (!n) return null;
      if (a.length > 1) {
        var d = toNumber(a[1]);
        if (!d || !isWhole(d) || compare(d, int(-12n)) < 0 || compare(d, int(12n)) > 0) {
          throw new ExprError("round() needs a whole number of places between -12 and 12");
        }
        places = Number(wholeValue(d));
      }
      if (places >= 0) return quantize(n, -places);
      var quantum = new Dec(1n, -places), whole = quantize(div(n, quantum), 0);
      return whole && mul(whole, quantum);
    },
    concat: function (a) { return a.map(text).join(""); },
    number: function (a) { return toNumber(a[0]); },
    string: function (a) { return text(a[0]); },
    abs: function (a) { var n = toNumber(a[0]); return n && rounded(abs(n.c), n.e); }
  };

  function run(node, env, ctx) {
    function ev(n) { return run(n, env, ctx); }
    var op = node[0];
    switch (op) {
      case "num": return node[1].indexOf(".") < 0 ? int(BigInt(node[1])) : decOf(node[1]);
      case "str": case "bool": return node[1];
      case "null": return null;
      case "ref": return lookup(env, node[1]);
      case "cur": return has(env, ".") ? env["."] : null;
      case "not": return !toBool(ev(node[1]));
      case "neg": case "pos":
        var n = toNumber(ev(node[1]));
        return n && (op === "neg" ? rounded(-n.c, n.e) : n);
      case "and": return toBool(ev(node[1])) && toBool(ev(node[2]));
      case "or": return toBool(ev(node[1])) || toBool(ev(node[2]));
      case "=": return equals(ev(node[1]), ev(node[2]));
      case "!=": return !equals(ev(node[1]), ev(node[2]));
      case "<": case "<=": case ">": case ">=": return order(op, ev(node[1]), ev(node[2]));
      case "+": case "-": case "*": case "/": case "%": return arith(op, ev(node[1]), ev(node[2]));
      case "call": return call(node[1], node.slice(2), ev, ctx);
      case "error": throw new ExprError(node[1]);
    }
    throw new ExprError("Unknown expression node " + op);
  }
  function call(name, args, ev, ctx) {
    if (name === "if") return toBool(ev(args[0])) ? ev(args[1]) : ev(args[2]);
    if (name === "coalesce") {
      for (var i = 0; i < args.length; i++) { var v = ev(args[i]); if (!isEmpty(v)) return v; }
      return null;
    }
    if (!has(FUNCTIONS, name)) throw new ExprError("Unknown function " + name + "()");
    return FUNCTIONS[name](args.map(ev), ctx);
  }

  /* evaluate(tree, env[, {current, today}]): as expressions.evaluate; ``today`` a PyDate. */
  function evaluate(tree, env, options) {
    options = options || {};
    var day = options.today || null;
    var ctx = { today: function () { return day || (day = todayInNZ()); } };
    if (options.current !== undefined && options.current !== null) {
      env = scope(env, { ".": options.current });
    }
    return normalise(run(tree, env, ctx));
  }

  /* ---- a whole form: answers typed as the server types them, then what applies ---- */
  function floatOf(s) {  // Python's float() of text
    var t = ascii(s);
    var special = /^([+-]?)(inf|infinity|nan)$/i.exec(t);
    if (special) return /nan/i.test(special[2]) ? NaN : special[1] === "-" ? -Infinity : Infinity;
    if (!/^[+-]?(?:(?:\d(?:_?\d)*)?\.\d(?:_?\d)*|\d(?:_?\d)*\.?)(?:[eE][+-]?\d(?:_?\d)*)?$/.test(t)) return null;
    return Number(t.replace(/_/g, ""));
  }
  /* The typed answer (validation._coerce), or the answer as given when it does not fit. Phone
     numbers stay as typed (the server writes them in E.164; only whether one is given shows). */
  function coerce(f, v) {
    if (isEmpty(v)) return f.type === "select_multiple" ? [] : null;
    if (f.type === "select_multiple") {
      var values = typeof v === "string" ? words(v) : v;
      var known = Array.isArray(values) && values.every(function (x) {
        return typeof x === "string" && f.choices.indexOf(x) >= 0;
      });
      if (!known) return v;
      return f.choices.filter(function (c) { return values.indexOf(c) >= 0; });
    }
    if (typeof v !== "string") return v;
    var s = strip(v);
    if (f.type === "text") return length(s) > 2000 ? v : s;
    if (f.type === "integer") {
      var m = new RegExp("^[" + WS + "]*([+-]?)(\\p{Nd}{1,9})[" + WS + "]*$", "u").exec(v);
      return m ? int(BigInt(m[1] + ascii(m[2]))) : v;
    }
    if (f.type === "decimal") {  // a finite number only: NaN and Infinity are no answer
      var x = floatOf(s.replace(/,/g, "."));
      return x === null || !isFinite(x) ? v : x;
    }
    if (f.type === "date") { var d = isoDate(s); return d ? d.iso() : v; }
    return v;
  }
  function isInput(f) { return f && f.type !== "note" && f.type !== "calculate" && f.type !== "repeat"; }
  function typed(fields, raw) {  // validation.normalise, type errors aside
    var answers = Object.create(null);
    Object.keys(raw).forEach(function (name) {
      var f = fields[name], value = raw[name];
      if (!f || f.parent) return;
      if (f.type !== "repeat") {
        if (isInput(f)) answers[name] = coerce(f, value);
        return;
      }
      var rows = Array.isArray(value) && value.every(isMapping) ? value : [];
      answers[name] = rows.map(function (row) {
        var out = Object.create(null);
        Object.keys(row).forEach(function (k) {
          var c = fields[k];
          if (c && c.parent === name && isInput(c)) out[k] = coerce(c, row[k]);
        });
        return out;
      });
    });
    return answers;
  }
  function holds(tree, env, today) {
    if (!tree) return true;
    try { return toBool(evaluate(tree, env, { today: today })); } catch (e) {
      if (e instanceof ExprError) return true;
      throw e;
    }
  }
  function valueOf(tree, env, today) {
    try { return evaluate(tree, env, { today: today }); } catch (e) {
      if (e instanceof ExprError) return null;
      throw e;
    }
  }
  /* state(plan, raw answers[, today]): the plan is filling.logic(form); raw answers as the
     page posts them (text, lists of text, a repeat's rows). As validation.evaluate_state. */
  function state(plan, raw, today) {
    if (plan.format !== FORMAT) throw new Error("Form logic format " + plan.format + " is not known here");
    today = today || todayInNZ();
    var byName = Object.create(null);
    plan.fields.forEach(function (f) {
      byName[f.name] = f;
      (f.children || []).forEach(function (c) { byName[c.name] = Object.assign({ parent: f.name }, c); });
    });
    var answers = typed(byName, raw), irrelevant = Object.create(null), result;
    for (var round = 0; round < 4; round++) {  // relevance can depend on answers further on
      var env = Object.create(null);
      Object.keys(answers).forEach(function (name) {
        if (irrelevant[name]) return;
        var value = answers[name];
        env[name] = byName[name].type === "repeat" ? value.map(function (row, i) {
          var kept = Object.create(null);
          Object.keys(row).forEach(function (k) {
            if (!irrelevant[name + "." + i + "." + k] && byName[k]) kept[k] = row[k];
          });
          return kept;
        }) : value;
      });
      plan.calculate.forEach(function (name) {
        var f = byName[name];
        if (!f.parent) env[name] = valueOf(f.calculation, env, today);
        else {
          (env[f.parent] || []).forEach(function (row) {
            row[name] = valueOf(f.calculation, scope(env, row), today);
          });
        }
      });
      var pages = Object.create(null), next = Object.create(null);
      plan.pages.forEach(function (p) { if (holds(p.relevant, env, today)) pages[p.name] = true; });
      plan.fields.forEach(function (f) {
        if (!pages[f.page] || !holds(f.relevant, env, today)) { next[f.name] = true; return; }
        if (f.type !== "repeat") return;
        (env[f.name] || []).forEach(function (row, i) {
          var inside = scope(env, row);
          f.children.forEach(function (c) {
            if (!holds(c.relevant, inside, today)) next[f.name + "." + i + "." + c.name] = true;
          });
        });
      });
      result = { env: env, pages: pages, irrelevant: next };
      var same = Object.keys(next).length === Object.keys(irrelevant).length &&
        Object.keys(next).every(function (k) { return irrelevant[k]; });
      if (same) break;
      irrelevant = next;
    }
    /* Whether the question at ``path`` (name, or repeat.row.name) is asked. */
    result.relevant = function (path) {
      var parts = path.split("."), f = byName[parts[parts.length - 1]];
      if (!f || !result.pages[f.page]) return false;
      if (f.parent && result.irrelevant[f.parent]) return false;
      return !result.irrelevant[path];
    };
    return result;
  }

  var api = {
    FORMAT: FORMAT, ExprError: ExprError, Dec: Dec, PyDate: PyDate,
    evaluate: evaluate, state: state, toBool: toBool, isEmpty: isEmpty,
    number: function (s) { return s.indexOf(".") < 0 && s.indexOf("e") < 0 ? int(BigInt(s)) : decOf(s); },
    date: function (iso) {
      var m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
      return m && dateOf(+m[1], +m[2], +m[3]);
    },
    text: text
  };
  if (typeof module === "object" && module.exports) module.exports = api;
  else root.FormExpr = api;
})(this);
