//! An independent check of every constant rsm shares with the Windows SDK.
//!
//! rsm's NTMS states, request kinds, rights and Win32 error codes are listed
//! by [`rsm_model::ntms_constants`]. This test reads the SDK headers that
//! define them (`ntmsapi.h` and `winerror.h`, as shipped by mingw-w64) when it
//! runs, evaluates their `#define`s and enum bodies with a small parser, and
//! compares every rsm value with the header's. Nothing of the headers is kept
//! in this repository.
//!
//! The headers come from Debian's `mingw-w64-common`. They are looked for in
//! the mingw-w64 include directories, or in `RSM_NTMS_HEADER_DIR` when that is
//! set. Without them the test fails, unless `RSM_SKIP_HEADER_TEST=1`.

use rsm_model::ntms_constants;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::{env, fs};

/// The headers that define rsm's constants.
const HEADERS: [&str; 2] = ["ntmsapi.h", "winerror.h"];

/// How to get them.
const INSTALL: &str = "install them with `apt-get update && apt-get install -y mingw-w64-common` \
     (Debian/Ubuntu), or set RSM_NTMS_HEADER_DIR to a directory holding ntmsapi.h and winerror.h; \
     RSM_SKIP_HEADER_TEST=1 skips this check";

#[test]
fn every_rsm_constant_matches_the_sdk_headers() {
    let Some(defs) = load_headers() else { return };
    let mut problems = Vec::new();
    let mut checked = 0;
    for table in ntms_constants() {
        if let Some(e) = table.header_enum {
            if !defs.values().flatten().any(|d| d.enum_name.as_deref() == Some(e)) {
                problems.push(format!("{}: the headers have no enum {e}", table.rsm));
            }
        }
        for &(name, value) in &table.constants {
            checked += 1;
            let Some(found) = defs.get(name) else {
                problems.push(format!("{}: {name} (= {value} in rsm) is not defined by the headers", table.rsm));
                continue;
            };
            for d in found {
                match &d.value {
                    Ok(v) if *v == value => {}
                    Ok(v) => problems.push(format!("{}: {name} is {value} in rsm but {v} in {}", table.rsm, d.place)),
                    Err(why) => problems.push(format!("{}: {name} at {}: {why}", table.rsm, d.place)),
                }
                if let (Some(want), Some(got)) = (table.header_enum, d.enum_name.as_deref()) {
                    if want != got {
                        problems.push(format!("{}: {name} is a member of {got}, not {want} ({})", table.rsm, d.place));
                    }
                }
            }
        }
    }
    eprintln!("checked {checked} constants of rsm against the SDK headers");
    assert!(
        problems.is_empty(),
        "{} of rsm's constants disagree with the SDK headers:\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
}

/// The registry must not miss a type: every value this crate documents in
/// the `NTMS_NAME (value)` form must be listed, with that value.
#[test]
fn every_value_documented_in_the_source_is_registered() {
    let listed: Vec<(&str, i64)> = ntms_constants().into_iter().flat_map(|t| t.constants).collect();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(!files.is_empty(), "no sources under {}", src.display());
    let (mut found, mut problems) = (0, Vec::new());
    for file in files {
        let text = fs::read_to_string(&file).unwrap();
        let shown = file.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap_or(&file).display().to_string();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim_start();
            if !(line.starts_with("///") || line.starts_with("//!")) {
                continue;
            }
            for (name, value) in documented_values(line) {
                found += 1;
                if !listed.contains(&(name.as_str(), value)) {
                    problems.push(format!(
                        "{shown}:{}: documents {name} ({value}) but ntms_constants() does not list it with that value",
                        n + 1
                    ));
                }
            }
        }
    }
    assert!(found > 0, "found no documented NTMS values: has the `NTMS_NAME (value)` convention changed?");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `NTMS_X (5)` and `ERROR_Y (87)` in a line of documentation.
fn documented_values(line: &str) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    let b = line.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let at_word = i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
        if at_word && (b[i..].starts_with(b"NTMS_") || b[i..].starts_with(b"ERROR_")) {
            let end = i + line[i..]
                .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
                .unwrap_or(line.len() - i);
            let name = &line[i..end];
            if let Some(rest) = line[end..].strip_prefix(" (") {
                if let Some(close) = rest.find(')') {
                    if let Ok(value) = rest[..close].parse::<i64>() {
                        out.push((name.to_string(), value));
                    }
                }
            }
            i = end;
        } else {
            i += 1;
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Finding the headers.

fn load_headers() -> Option<Definitions> {
    let dirs = header_dirs();
    let found: Vec<Option<PathBuf>> =
        HEADERS.iter().map(|h| dirs.iter().map(|d| d.join(h)).find(|p| p.is_file())).collect();
    if found.iter().any(Option::is_none) {
        let missing: Vec<_> = HEADERS.iter().zip(&found).filter(|(_, p)| p.is_none()).map(|(h, _)| *h).collect();
        let searched: Vec<_> = dirs.iter().map(|d| d.display().to_string()).collect();
        let message = format!(
            "the Windows SDK headers {} were not found (searched {}): {INSTALL}",
            missing.join(" and "),
            searched.join(", ")
        );
        if env::var("RSM_SKIP_HEADER_TEST").as_deref() == Ok("1") {
            eprintln!("SKIPPED (RSM_SKIP_HEADER_TEST=1): {message}");
            return None;
        }
        panic!("{message}");
    }
    let mut defs = Definitions::new();
    for path in found.into_iter().flatten() {
        eprintln!("reading {}", path.display());
        let text = fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        parse_header(&String::from_utf8_lossy(&text), &file, &mut defs);
    }
    Some(defs)
}

/// `RSM_NTMS_HEADER_DIR` alone when set; otherwise the directories where
/// mingw-w64 installs its headers.
fn header_dirs() -> Vec<PathBuf> {
    if let Some(dir) = env::var_os("RSM_NTMS_HEADER_DIR") {
        return vec![PathBuf::from(dir)];
    }
    let mut dirs = vec![PathBuf::from("/usr/share/mingw-w64/include")];
    let mut targets: Vec<PathBuf> = fs::read_dir("/usr")
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().ends_with("-w64-mingw32"))
                .map(|e| e.path().join("include"))
                .collect()
        })
        .unwrap_or_default();
    targets.sort();
    dirs.extend(targets);
    dirs
}

// ---------------------------------------------------------------------------
// A parser for the constants of a C header: object-like `#define`s whose
// body is an integer expression, and the members of enums.

/// One definition of a symbol.
#[derive(Clone, Debug, PartialEq)]
struct Definition {
    /// The value, or why it could not be evaluated.
    value: Result<i64, String>,
    /// The enum it is a member of (`None` for a `#define` or an anonymous enum).
    enum_name: Option<String>,
    /// `file:line`.
    place: String,
    /// A `#define` body, kept to evaluate it again once later symbols are known.
    body: Option<Vec<Token>>,
}

/// Every definition of each symbol (conditional branches may define one twice).
type Definitions = BTreeMap<String, Vec<Definition>>;

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Ident(String),
    Number(String),
    Punct(String),
    /// A string or character literal.
    Literal,
    /// A whole preprocessor line (continuations joined), with its line number.
    Directive(String, usize),
}

/// Macros that wrap a literal without changing its value. (An HRESULT such
/// as `0x80004005L` reads as written, positive, not as a negative `LONG`.)
const WRAPPERS: [&str; 3] = ["__MSABI_LONG", "_HRESULT_TYPEDEF_", "_NDIS_ERROR_TYPEDEF_"];

/// Type names that may appear in a cast, which does not change the value here.
const CAST_WORDS: [&str; 14] = [
    "DWORD", "LONG", "ULONG", "HRESULT", "SCODE", "NTSTATUS", "UINT", "INT", "int", "long", "unsigned", "signed",
    "short", "char",
];

/// Adds the constants of header `text` (named `file` in messages) to `defs`.
fn parse_header(text: &str, file: &str, defs: &mut Definitions) {
    let tokens = tokenize(&strip_comments(text));
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i].0 {
            Token::Directive(line, n) => define(line, &format!("{file}:{n}"), defs),
            Token::Ident(word) if word == "enum" => {
                let name = match tokens.get(i + 1) {
                    Some((Token::Ident(name), _)) => {
                        i += 1;
                        Some(name.clone())
                    }
                    _ => None,
                };
                if tokens.get(i + 1).map(|t| &t.0) == Some(&Token::Punct("{".into())) {
                    i = enum_body(&tokens, i + 2, name, file, defs);
                }
            }
            _ => {}
        }
        i += 1;
    }
    // A `#define` may name a symbol defined after it: evaluate those again.
    loop {
        let mut changed = false;
        let pending: Vec<(String, usize)> = defs
            .iter()
            .flat_map(|(k, v)| {
                v.iter().enumerate().filter(|(_, d)| d.value.is_err() && d.body.is_some()).map(|(j, _)| (k.clone(), j))
            })
            .collect();
        for (name, j) in pending {
            let body = defs[&name][j].body.clone().unwrap();
            if let Ok(v) = evaluate(&body, defs) {
                defs.get_mut(&name).unwrap()[j].value = Ok(v);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
}

/// Replaces comments with spaces, keeping newlines so line numbers hold.
fn strip_comments(text: &str) -> String {
    let b: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        match (b[i], b.get(i + 1)) {
            ('/', Some('*')) => {
                i += 2;
                while i < b.len() && !(b[i] == '*' && b.get(i + 1) == Some(&'/')) {
                    out.push(if b[i] == '\n' { '\n' } else { ' ' });
                    i += 1;
                }
                out.push_str("  ");
                i += 2;
            }
            ('/', Some('/')) => {
                while i < b.len() && b[i] != '\n' {
                    i += 1;
                }
            }
            (q @ ('"' | '\''), _) => {
                out.push(q);
                i += 1;
                while i < b.len() && b[i] != q && b[i] != '\n' {
                    if b[i] == '\\' && i + 1 < b.len() {
                        out.push(b[i]);
                        i += 1;
                    }
                    out.push(b[i]);
                    i += 1;
                }
                if i < b.len() && b[i] == q {
                    out.push(q);
                    i += 1;
                }
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// The tokens of a header, each with its line number; a preprocessor line
/// is one token.
fn tokenize(text: &str) -> Vec<(Token, usize)> {
    let mut tokens = Vec::new();
    let lines: Vec<&str> = text.split('\n').collect();
    let mut n = 0;
    while n < lines.len() {
        let first = n + 1;
        let mut line = lines[n].to_string();
        if line.trim_start().starts_with('#') {
            while line.trim_end().ends_with('\\') && n + 1 < lines.len() {
                line = line.trim_end().trim_end_matches('\\').to_string();
                line.push(' ');
                n += 1;
                line.push_str(lines[n]);
            }
            tokens.push((Token::Directive(line.trim().to_string(), first), first));
        } else {
            tokens.extend(tokenize_code(&line).into_iter().map(|t| (t, first)));
        }
        n += 1;
    }
    tokens
}

fn tokenize_code(text: &str) -> Vec<Token> {
    let b: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_alphabetic() || c == '_' {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == '_') {
                i += 1;
            }
            tokens.push(Token::Ident(b[start..i].iter().collect()));
        } else if c.is_ascii_digit() {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == '_' || b[i] == '.') {
                i += 1;
            }
            tokens.push(Token::Number(b[start..i].iter().collect()));
        } else if c == '"' || c == '\'' {
            i += 1;
            while i < b.len() && b[i] != c {
                i += if b[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            tokens.push(Token::Literal);
        } else {
            let two: String = b[i..(i + 2).min(b.len())].iter().collect();
            let op = if ["<<", ">>", "&&", "||", "==", "!=", "<=", ">=", "->", "::"].contains(&two.as_str()) {
                two
            } else {
                c.to_string()
            };
            i += op.chars().count();
            tokens.push(Token::Punct(op));
        }
    }
    tokens
}

/// Records `#define NAME body` when `line` is an object-like `#define`.
fn define(line: &str, place: &str, defs: &mut Definitions) {
    let rest = line.trim_start_matches('#').trim_start();
    let Some(rest) = rest.strip_prefix("define") else { return };
    if !rest.starts_with(char::is_whitespace) {
        return;
    }
    let rest = rest.trim_start();
    let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len());
    let (name, body) = rest.split_at(end);
    if name.is_empty() || body.starts_with('(') {
        return; // Not a name, or a function-like macro.
    }
    let body = tokenize_code(body);
    let value = evaluate(&body, defs);
    defs.entry(name.to_string()).or_default().push(Definition {
        value,
        enum_name: None,
        place: place.to_string(),
        body: Some(body),
    });
}

/// Reads the members of an enum whose body starts at `tokens[i]`; returns
/// the index of its closing brace. A member without a value is the previous
/// one plus one (the first is 0).
fn enum_body(
    tokens: &[(Token, usize)],
    mut i: usize,
    name: Option<String>,
    file: &str,
    defs: &mut Definitions,
) -> usize {
    let mut next: Result<i64, String> = Ok(0);
    let mut item: Vec<Token> = Vec::new();
    let mut line = 0;
    let mut depth = 0;
    while i < tokens.len() {
        let (token, n) = &tokens[i];
        if item.is_empty() {
            line = *n;
        }
        match token {
            Token::Directive(text, n) => define(text, &format!("{file}:{n}"), defs),
            Token::Punct(p) if (p == "," || p == "}") && depth == 0 => {
                if let Some(Token::Ident(member)) = item.first() {
                    let value = match item.get(1) {
                        None => next.clone(),
                        Some(Token::Punct(eq)) if eq == "=" => evaluate(&item[2..], defs),
                        Some(_) => Err("unexpected tokens in an enum member".to_string()),
                    };
                    next = value.clone().map(|v| v + 1);
                    defs.entry(member.clone()).or_default().push(Definition {
                        value,
                        enum_name: name.clone(),
                        place: format!("{file}:{line}"),
                        body: None,
                    });
                }
                item.clear();
                if p == "}" {
                    return i;
                }
            }
            _ => {
                if let Token::Punct(p) = token {
                    depth += match p.as_str() {
                        "(" => 1,
                        ")" => -1,
                        _ => 0,
                    };
                }
                item.push(token.clone());
            }
        }
        i += 1;
    }
    i
}

/// The value of a constant integer expression, or why it has none.
fn evaluate(tokens: &[Token], defs: &Definitions) -> Result<i64, String> {
    let shown = || tokens.iter().map(show).collect::<Vec<_>>().join(" ");
    if tokens.is_empty() {
        return Err("defined with no value".into());
    }
    let mut parser = Expr { tokens, at: 0, defs, depth: 0 };
    let value = parser.or().map_err(|why| format!("cannot evaluate `{}`: {why}", shown()))?;
    if parser.at != tokens.len() {
        return Err(format!("cannot evaluate `{}`: unexpected `{}`", shown(), show(&tokens[parser.at])));
    }
    Ok(value)
}

fn show(t: &Token) -> String {
    match t {
        Token::Ident(s) | Token::Number(s) | Token::Punct(s) => s.clone(),
        Token::Literal => "\"...\"".into(),
        Token::Directive(s, _) => s.clone(),
    }
}

/// Recursive descent over `|`, `&`, shifts, `+`/`-`, unary `-`/`+`/`~`,
/// parentheses, casts, value-preserving wrapper macros, literals and
/// symbols already defined.
struct Expr<'a> {
    tokens: &'a [Token],
    at: usize,
    defs: &'a Definitions,
    depth: usize,
}

impl Expr<'_> {
    fn peek(&self, p: &str) -> bool {
        matches!(self.tokens.get(self.at), Some(Token::Punct(q)) if q == p)
    }

    fn expect(&mut self, p: &str) -> Result<(), String> {
        if self.peek(p) {
            self.at += 1;
            Ok(())
        } else {
            Err(format!("expected `{p}`"))
        }
    }

    fn or(&mut self) -> Result<i64, String> {
        let mut v = self.and()?;
        while self.peek("|") {
            self.at += 1;
            v |= self.and()?;
        }
        Ok(v)
    }

    fn and(&mut self) -> Result<i64, String> {
        let mut v = self.shift()?;
        while self.peek("&") {
            self.at += 1;
            v &= self.shift()?;
        }
        Ok(v)
    }

    fn shift(&mut self) -> Result<i64, String> {
        let mut v = self.sum()?;
        loop {
            if self.peek("<<") {
                self.at += 1;
                v = v.checked_shl(u32::try_from(self.sum()?).map_err(|e| e.to_string())?).ok_or("shift overflow")?;
            } else if self.peek(">>") {
                self.at += 1;
                v = v.checked_shr(u32::try_from(self.sum()?).map_err(|e| e.to_string())?).ok_or("shift overflow")?;
            } else {
                return Ok(v);
            }
        }
    }

    fn sum(&mut self) -> Result<i64, String> {
        let mut v = self.unary()?;
        loop {
            if self.peek("+") {
                self.at += 1;
                v = v.checked_add(self.unary()?).ok_or("overflow")?;
            } else if self.peek("-") {
                self.at += 1;
                v = v.checked_sub(self.unary()?).ok_or("overflow")?;
            } else {
                return Ok(v);
            }
        }
    }

    fn unary(&mut self) -> Result<i64, String> {
        if self.peek("-") {
            self.at += 1;
            return self.unary()?.checked_neg().ok_or_else(|| "overflow".into());
        }
        if self.peek("+") {
            self.at += 1;
            return self.unary();
        }
        if self.peek("~") {
            self.at += 1;
            return Ok(!self.unary()?);
        }
        if self.peek("(") && self.is_cast() {
            while !self.peek(")") {
                self.at += 1;
            }
            self.at += 1;
            return self.unary();
        }
        self.primary()
    }

    /// `(` type words `)` followed by an operand.
    fn is_cast(&self) -> bool {
        let mut j = self.at + 1;
        let mut words = 0;
        while let Some(Token::Ident(w)) = self.tokens.get(j) {
            if !CAST_WORDS.contains(&w.as_str()) {
                return false;
            }
            words += 1;
            j += 1;
        }
        words > 0 && matches!(self.tokens.get(j), Some(Token::Punct(p)) if p == ")") && j + 1 < self.tokens.len()
    }

    fn primary(&mut self) -> Result<i64, String> {
        let token = self.tokens.get(self.at).cloned().ok_or("the expression ends early")?;
        self.at += 1;
        match token {
            Token::Number(n) => literal(&n),
            Token::Punct(p) if p == "(" => {
                let v = self.or()?;
                self.expect(")")?;
                Ok(v)
            }
            Token::Ident(w) if WRAPPERS.contains(&w.as_str()) => {
                self.expect("(")?;
                let v = self.or()?;
                self.expect(")")?;
                Ok(v)
            }
            Token::Ident(w) => {
                let found = self.defs.get(&w).and_then(|d| d.last()).ok_or(format!("`{w}` is not a known constant"))?;
                match &found.value {
                    Ok(v) => Ok(*v),
                    Err(_) if self.depth < 16 && found.body.is_some() => {
                        let body = found.body.as_ref().unwrap();
                        let mut inner = Expr { tokens: body, at: 0, defs: self.defs, depth: self.depth + 1 };
                        let v = inner.or()?;
                        if inner.at == body.len() {
                            Ok(v)
                        } else {
                            Err(format!("`{w}` has no value"))
                        }
                    }
                    Err(_) => Err(format!("`{w}` has no value")),
                }
            }
            other => Err(format!("unexpected `{}`", show(&other))),
        }
    }
}

/// A C integer literal: decimal, `0x` hexadecimal or `0` octal, with any
/// `u`/`U`/`l`/`L` suffix (or Microsoft's `i64`).
fn literal(text: &str) -> Result<i64, String> {
    let digits = text.trim_end_matches("i64").trim_end_matches(['u', 'U', 'l', 'L']);
    let parsed = if let Some(hex) = digits.strip_prefix("0x").or_else(|| digits.strip_prefix("0X")) {
        u64::from_str_radix(hex, 16)
    } else if digits.len() > 1 && digits.starts_with('0') {
        u64::from_str_radix(&digits[1..], 8)
    } else {
        digits.parse::<u64>()
    };
    let value = parsed.map_err(|_| format!("`{text}` is not an integer literal"))?;
    i64::try_from(value).map_err(|_| format!("`{text}` is too large"))
}

// ---------------------------------------------------------------------------
// The parser on small made-up headers.

fn parse(text: &str) -> Definitions {
    let mut defs = Definitions::new();
    parse_header(text, "test.h", &mut defs);
    defs
}

fn value(defs: &Definitions, name: &str) -> Result<i64, String> {
    let d = defs.get(name).unwrap_or_else(|| panic!("{name} not parsed"));
    assert_eq!(d.len(), 1, "{name} defined {} times", d.len());
    d[0].value.clone()
}

#[test]
fn parser_reads_defines() {
    let defs = parse(concat!(
        "/* not a definition: #define HIDDEN 1 */\n",
        "#define SEVEN 7\n",
        "#  define SPACED   12U\n",
        "#define HEX 0x1fUL // a trailing comment\n",
        "#define OCTAL 010\n",
        "#define NEGATIVE (-3)\n",
        "#define WRAPPED __MSABI_LONG(4300)\n",
        "#define CAST ((DWORD)0x20L)\n",
        "#define UNSIGNED_CAST ((unsigned long)5)\n",
        "#define HR _HRESULT_TYPEDEF_(0x80004005L)\n",
        "#define ALIAS SEVEN\n",
        "#define FLAGS SEVEN | HEX | 0x100\n",
        "#define SHIFTED (1 << 4)\n",
        "#define LATER EARLIER + 1\n",
        "#define EARLIER 41\n",
        "#define CONTINUED \\\n   99\n",
        "#define FUNCTION(x) ((x) + 1)\n",
        "#define TEXT \"not a number\"\n",
        "#define EMPTY\n",
        "#define UNKNOWN NOT_DEFINED_ANYWHERE\n",
        "#include <other.h>\n",
        "#undef SEVEN\n",
    ));
    assert!(!defs.contains_key("HIDDEN"), "comments are not read");
    assert!(!defs.contains_key("FUNCTION"), "function-like macros are not constants");
    for (name, want) in [
        ("SEVEN", 7),
        ("SPACED", 12),
        ("HEX", 0x1f),
        ("OCTAL", 8),
        ("NEGATIVE", -3),
        ("WRAPPED", 4300),
        ("CAST", 0x20),
        ("UNSIGNED_CAST", 5),
        ("HR", 0x8000_4005),
        ("ALIAS", 7),
        ("FLAGS", 0x11f),
        ("SHIFTED", 16),
        ("LATER", 42),
        ("CONTINUED", 99),
    ] {
        assert_eq!(value(&defs, name), Ok(want), "{name}");
    }
    for name in ["TEXT", "EMPTY", "UNKNOWN"] {
        assert!(value(&defs, name).is_err(), "{name} has no integer value");
    }
    assert_eq!(defs["CONTINUED"][0].place, "test.h:16");
}

#[test]
fn parser_reads_enums() {
    let defs = parse(concat!(
        "typedef enum _Colour {\n",
        "    COLOUR_RED = 3,   /* an explicit start */\n",
        "    COLOUR_GREEN, COLOUR_BLUE,\n",
        "    COLOUR_DARK = -2,\n",
        "    COLOUR_DARKER,\n",
        "    COLOUR_MASK = 0x10 | COLOUR_RED,\n",
        "    COLOUR_ALSO_RED = COLOUR_RED\n",
        "} Colour;\n",
        "enum { FIRST_ANONYMOUS, SECOND_ANONYMOUS, };\n",
        "enum Forward;\n",
        "struct NotAnEnum { int member; };\n",
    ));
    for (name, want) in [
        ("COLOUR_RED", 3),
        ("COLOUR_GREEN", 4),
        ("COLOUR_BLUE", 5),
        ("COLOUR_DARK", -2),
        ("COLOUR_DARKER", -1),
        ("COLOUR_MASK", 0x13),
        ("COLOUR_ALSO_RED", 3),
        ("FIRST_ANONYMOUS", 0),
        ("SECOND_ANONYMOUS", 1),
    ] {
        assert_eq!(value(&defs, name), Ok(want), "{name}");
    }
    assert_eq!(defs["COLOUR_BLUE"][0].enum_name.as_deref(), Some("_Colour"));
    assert_eq!(defs["COLOUR_BLUE"][0].place, "test.h:3");
    assert_eq!(defs["FIRST_ANONYMOUS"][0].enum_name, None);
    assert!(!defs.contains_key("member"));
}

#[test]
fn parser_keeps_every_definition_of_a_symbol() {
    let defs = parse("#ifdef A\n#define TWICE 1\n#else\n#define TWICE 2\n#endif\n");
    let values: Vec<_> = defs["TWICE"].iter().map(|d| d.value.clone()).collect();
    assert_eq!(values, [Ok(1), Ok(2)]);
}

#[test]
fn parser_finds_documented_values() {
    assert_eq!(
        documented_values("/// § NTMS_LM_MOUNT (17), not XNTMS_A (1), ERROR_BUSY (170); NTMS_B (x) NTMS_C"),
        [("NTMS_LM_MOUNT".to_string(), 17), ("ERROR_BUSY".to_string(), 170)]
    );
}
