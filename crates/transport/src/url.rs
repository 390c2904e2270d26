//! `iscsi://HOST[:PORT]/TARGET/LUN`: where an iSCSI device is.

use std::fmt;
use std::str::FromStr;

use crate::TransportError;

/// The iSCSI port when a URL names none (RFC 7143).
pub const ISCSI_DEFAULT_PORT: u16 = 3260;

/// The scheme, compared without regard to case.
const SCHEME: &str = "iscsi://";

/// The form, for error messages.
const FORM: &str = "expected iscsi://HOST[:PORT]/TARGET/LUN";

/// One logical unit of an iSCSI target: `iscsi://HOST[:PORT]/TARGET/LUN`,
/// as `ops/vtl/vtl up` prints it and libiscsi's tools take it (without
/// their CHAP credentials and query arguments, which rsm does not use).
///
/// ```
/// use rsm_transport::IscsiUrl;
/// let url = IscsiUrl::parse("iscsi://[::1]:3270/iqn.2026-11.org.rsm:vtl-3270/3")?;
/// assert_eq!(url.host, "::1");
/// assert_eq!(url.portal(), "[::1]:3270");
/// assert_eq!(url.with_lun(1).to_string(), "iscsi://[::1]:3270/iqn.2026-11.org.rsm:vtl-3270/1");
/// # Ok::<(), rsm_transport::TransportError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IscsiUrl {
    /// Host name or address; an IPv6 address without its brackets.
    pub host: String,
    /// TCP port of the portal.
    pub port: u16,
    /// The target's name, normally an IQN (`iqn.2026-11.org.rsm:vtl-3260`).
    pub target: String,
    /// The logical unit: the changer's, or a drive's.
    pub lun: u16,
}

impl IscsiUrl {
    /// Parses `iscsi://HOST[:PORT]/TARGET/LUN`; the port defaults to
    /// [`ISCSI_DEFAULT_PORT`], an IPv6 host is written in brackets.
    ///
    /// # Errors
    /// [`TransportError::BadUrl`] saying what is wrong: another scheme, an
    /// empty or malformed host, a port that is not 1..=65535, no target, a
    /// LUN that is not a number up to 65535, anything after the LUN,
    /// credentials (`user%password@`), a query or a fragment.
    pub fn parse(text: &str) -> Result<Self, TransportError> {
        let bad = |why: &str| TransportError::BadUrl(format!("{text:?}: {why} ({FORM})"));
        let rest = match text.get(..SCHEME.len()) {
            Some(scheme) if scheme.eq_ignore_ascii_case(SCHEME) => &text[SCHEME.len()..],
            _ => return Err(bad("the scheme must be iscsi://")),
        };
        if rest.contains(['?', '#']) {
            return Err(bad("query arguments and fragments are not supported"));
        }
        let (authority, path) = rest.split_once('/').ok_or_else(|| bad("no target"))?;
        if authority.contains('@') {
            return Err(bad("credentials in the URL are not supported"));
        }
        let (host, port) = split_host_port(authority).map_err(|why| bad(&why))?;
        let (target, lun) = path.split_once('/').ok_or_else(|| bad("no LUN"))?;
        if target.is_empty() {
            return Err(bad("no target"));
        }
        if let Some(c) = target.chars().find(|c| !c.is_ascii_graphic()) {
            return Err(bad(&format!("the target name has {c:?}")));
        }
        if lun.contains('/') {
            return Err(bad("something after the LUN"));
        }
        let lun = parse_number(lun, "LUN").map_err(|why| bad(&why))?;
        Ok(Self { host: host.to_owned(), port, target: target.to_owned(), lun })
    }

    /// `HOST:PORT` for libiscsi (`[ADDRESS]:PORT` for IPv6).
    #[must_use]
    pub fn portal(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The same target, another LUN (a drive of the changer's target).
    #[must_use]
    pub fn with_lun(&self, lun: u16) -> Self {
        Self { lun, ..self.clone() }
    }
}

/// `HOST[:PORT]` or `[IPV6][:PORT]`.
fn split_host_port(authority: &str) -> Result<(&str, u16), String> {
    let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
        let (host, after) = bracketed.split_once(']').ok_or("an IPv6 address without its ']'")?;
        if !host.contains(':') || !host.chars().all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.') {
            return Err(format!("{host:?} in brackets is not an IPv6 address"));
        }
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':').ok_or("something between ']' and the port")?),
        };
        (host, port)
    } else {
        if authority.matches(':').count() > 1 {
            return Err("an IPv6 address must be written in brackets".to_owned());
        }
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err("no host".to_owned());
    }
    if let Some(c) = host.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'))) {
        return Err(format!("the host has {c:?}"));
    }
    let port = match port {
        None => ISCSI_DEFAULT_PORT,
        Some(port) => match parse_number(port, "port")? {
            0 => return Err("port 0".to_owned()),
            port => port,
        },
    };
    Ok((host, port))
}

/// A decimal number of at most 16 bits, digits only (no sign, no spaces).
fn parse_number(text: &str, what: &str) -> Result<u16, String> {
    if text.is_empty() {
        return Err(format!("no {what}"));
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("the {what} {text:?} is not a number"));
    }
    text.parse().map_err(|_| format!("the {what} {text} is above 65535"))
}

impl FromStr for IscsiUrl {
    type Err = TransportError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

/// Always with the port, so that it parses back to the same value.
impl fmt::Display for IscsiUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "iscsi://{}/{}/{}", self.portal(), self.target, self.lun)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IQN: &str = "iqn.2026-11.org.rsm:vtl-3260";

    /// Parses `text` and compares with `(host, port, target, lun)`.
    fn check(text: &str, host: &str, port: u16, target: &str, lun: u16) {
        let url = IscsiUrl::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(url, IscsiUrl { host: host.to_owned(), port, target: target.to_owned(), lun }, "{text}");
        assert_eq!(IscsiUrl::parse(&url.to_string()), Ok(url.clone()), "round trip of {text}");
    }

    /// `text` is refused, with a message containing `why`.
    fn check_bad(text: &str, why: &str) {
        match IscsiUrl::parse(text) {
            Err(TransportError::BadUrl(message)) => assert!(message.contains(why), "{text}: {message:?} lacks {why:?}"),
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn vtl_url() {
        check(&format!("iscsi://127.0.0.1:3260/{IQN}/3"), "127.0.0.1", 3260, IQN, 3);
    }

    #[test]
    fn default_port() {
        check(&format!("iscsi://127.0.0.1/{IQN}/3"), "127.0.0.1", ISCSI_DEFAULT_PORT, IQN, 3);
        check(&format!("iscsi://[::1]/{IQN}/0"), "::1", ISCSI_DEFAULT_PORT, IQN, 0);
    }

    #[test]
    fn host_names_and_ipv6() {
        check(&format!("iscsi://tape-bridge.example.org:3261/{IQN}/1"), "tape-bridge.example.org", 3261, IQN, 1);
        check(&format!("iscsi://[fe80::1:2]:65535/{IQN}/65535"), "fe80::1:2", 65535, IQN, 65535);
        check(&format!("iscsi://[::ffff:127.0.0.1]:3260/{IQN}/2"), "::ffff:127.0.0.1", 3260, IQN, 2);
    }

    #[test]
    fn scheme_is_case_insensitive() {
        check(&format!("ISCSI://127.0.0.1:3260/{IQN}/3"), "127.0.0.1", 3260, IQN, 3);
    }

    #[test]
    fn eui_target_names() {
        check("iscsi://10.0.0.7/eui.02004567A425678D/4", "10.0.0.7", 3260, "eui.02004567A425678D", 4);
    }

    #[test]
    fn portal_and_display() {
        let url = IscsiUrl::parse(&format!("iscsi://127.0.0.1/{IQN}/3")).unwrap();
        assert_eq!(url.portal(), "127.0.0.1:3260");
        assert_eq!(url.to_string(), format!("iscsi://127.0.0.1:3260/{IQN}/3"));
        let six = IscsiUrl { host: "::1".to_owned(), ..url.with_lun(1) };
        assert_eq!(six.portal(), "[::1]:3260");
        assert_eq!(six.to_string(), format!("iscsi://[::1]:3260/{IQN}/1"));
        assert_eq!(format!("iscsi://127.0.0.1/{IQN}/3").parse::<IscsiUrl>(), Ok(url));
    }

    #[test]
    fn malformed_urls() {
        for (text, why) in [
            ("", "scheme"),
            ("iscsi:/", "scheme"),
            ("iscsi:", "scheme"),
            (&format!("http://127.0.0.1/{IQN}/3"), "scheme"),
            (&format!("127.0.0.1:3260/{IQN}/3"), "scheme"),
            ("iscsi://127.0.0.1:3260", "no target"),
            ("iscsi://127.0.0.1:3260/", "no LUN"),
            ("iscsi://127.0.0.1:3260//3", "no target"),
            (&format!("iscsi://127.0.0.1:3260/{IQN}"), "no LUN"),
            (&format!("iscsi://127.0.0.1:3260/{IQN}/"), "no LUN"),
            (&format!("iscsi://127.0.0.1:3260/{IQN}/3/"), "after the LUN"),
            (&format!("iscsi://127.0.0.1:3260/{IQN}/3/4"), "after the LUN"),
            (&format!("iscsi://127.0.0.1:3260/{IQN}/x"), "not a number"),
            (&format!("iscsi://127.0.0.1:3260/{IQN}/-1"), "not a number"),
            (&format!("iscsi://127.0.0.1:3260/{IQN}/+1"), "not a number"),
            (&format!("iscsi://127.0.0.1:3260/{IQN}/ 3"), "not a number"),
            (&format!("iscsi://127.0.0.1:3260/{IQN}/65536"), "above 65535"),
            (&format!("iscsi:///{IQN}/3"), "no host"),
            (&format!("iscsi://:3260/{IQN}/3"), "no host"),
            (&format!("iscsi://127.0.0.1:/{IQN}/3"), "no port"),
            (&format!("iscsi://127.0.0.1:0/{IQN}/3"), "port 0"),
            (&format!("iscsi://127.0.0.1:65536/{IQN}/3"), "above 65535"),
            (&format!("iscsi://127.0.0.1:32x/{IQN}/3"), "not a number"),
            (&format!("iscsi://::1/{IQN}/3"), "brackets"),
            (&format!("iscsi://[::1/{IQN}/3"), "']'"),
            (&format!("iscsi://[::1]3260/{IQN}/3"), "between ']'"),
            (&format!("iscsi://[]:3260/{IQN}/3"), "not an IPv6"),
            (&format!("iscsi://[host]:3260/{IQN}/3"), "not an IPv6"),
            (&format!("iscsi://user%secret@127.0.0.1/{IQN}/3"), "credentials"),
            (&format!("iscsi://127.0.0.1/{IQN}/3?header_digest=crc32c"), "query"),
            (&format!("iscsi://127.0.0.1/{IQN}/3#x"), "fragments"),
            (&format!("iscsi://bad host/{IQN}/3"), "the host has"),
            ("iscsi://127.0.0.1/iqn.2026-11 x/3", "target name has"),
            ("iscsi://127.0.0.1/iqn.2026-11\0x/3", "target name has"),
        ] {
            check_bad(text, why);
        }
    }
}
