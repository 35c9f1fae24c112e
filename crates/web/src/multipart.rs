//! `multipart/form-data` (RFC 7578) read from a body already in memory: the
//! one form that uploads a file. The CSRF layer has read the whole body under
//! the route's size limit before any handler runs, so a buffered parser is
//! enough, and it keeps a streaming crate out of the build.
//!
//! Only what browsers send is read: parts separated by the boundary of the
//! `Content-Type` header, each with a `Content-Disposition: form-data;
//! name="…"` header (and `filename="…"` for a file) and an optional
//! `Content-Type`. Anything else is a [`MultipartError`].

/// One part of the form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Part {
    pub name: String,
    /// The file's name as the browser sent it, for a file part.
    pub file_name: Option<String>,
    /// The part's declared type (never trusted for a file: its content is
    /// checked instead).
    pub content_type: Option<String>,
    pub data: Vec<u8>,
}

impl Part {
    /// The part as text (form fields are UTF-8).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MultipartError {
    #[error("the form is not multipart/form-data with a boundary")]
    NotMultipart,
    #[error("the form's body is not well-formed multipart/form-data")]
    Malformed,
}

/// The boundary of a `multipart/form-data` content type, if it is one.
pub fn boundary(content_type: &str) -> Option<String> {
    let mut pieces = content_type.split(';');
    let kind = pieces.next()?.trim();
    if !kind.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    pieces.find_map(|piece| {
        let (key, value) = piece.split_once('=')?;
        if !key.trim().eq_ignore_ascii_case("boundary") {
            return None;
        }
        let value = value.trim().trim_matches('"');
        // RFC 2046 §5.1.1: 1 to 70 characters.
        (!value.is_empty() && value.len() <= 70).then(|| value.to_owned())
    })
}

/// The parts of `body`, whose `Content-Type` is `content_type`.
pub fn parse(content_type: &str, body: &[u8]) -> Result<Vec<Part>, MultipartError> {
    let boundary = boundary(content_type).ok_or(MultipartError::NotMultipart)?;
    let delimiter = format!("--{boundary}").into_bytes();
    let mut parts = Vec::new();
    // The body starts with the first delimiter (a preamble is allowed).
    let mut at = find(body, &delimiter, 0).ok_or(MultipartError::Malformed)? + delimiter.len();
    loop {
        if body[at..].starts_with(b"--") {
            return Ok(parts);
        }
        at = skip_line_end(body, at)?;
        let header_end = find(body, b"\r\n\r\n", at).ok_or(MultipartError::Malformed)?;
        let headers =
            std::str::from_utf8(&body[at..header_end]).map_err(|_| MultipartError::Malformed)?;
        let content_start = header_end + 4;
        let mut next_delimiter = b"\r\n".to_vec();
        next_delimiter.extend_from_slice(&delimiter);
        let content_end =
            find(body, &next_delimiter, content_start).ok_or(MultipartError::Malformed)?;
        parts.push(part(headers, body[content_start..content_end].to_vec())?);
        at = content_end + next_delimiter.len();
    }
}

fn part(headers: &str, data: Vec<u8>) -> Result<Part, MultipartError> {
    let mut name = None;
    let mut file_name = None;
    let mut content_type = None;
    for line in headers.split("\r\n") {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let key = key.trim();
        if key.eq_ignore_ascii_case("content-disposition") {
            let mut pieces = value.split(';');
            if !pieces
                .next()
                .is_some_and(|kind| kind.trim().eq_ignore_ascii_case("form-data"))
            {
                return Err(MultipartError::Malformed);
            }
            for piece in pieces {
                let Some((k, v)) = piece.split_once('=') else {
                    continue;
                };
                let v = unquote(v.trim());
                match k.trim().to_ascii_lowercase().as_str() {
                    "name" => name = Some(v),
                    "filename" => file_name = Some(v),
                    _ => {}
                }
            }
        } else if key.eq_ignore_ascii_case("content-type") {
            content_type = Some(value.trim().to_owned());
        }
    }
    Ok(Part {
        name: name.ok_or(MultipartError::Malformed)?,
        file_name,
        content_type,
        data,
    })
}

/// A quoted-string's value: browsers escape `"` as `%22` (HTML's form
/// submission algorithm) and send everything else as is.
fn unquote(value: &str) -> String {
    let inner = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value);
    inner
        .replace("%22", "\"")
        .replace("%0D", "\r")
        .replace("%0A", "\n")
}

fn skip_line_end(body: &[u8], at: usize) -> Result<usize, MultipartError> {
    // Transport padding (spaces, tabs) may follow a delimiter.
    let mut at = at;
    while body.get(at).is_some_and(|b| *b == b' ' || *b == b'\t') {
        at += 1;
    }
    if body[at..].starts_with(b"\r\n") {
        Ok(at + 2)
    } else {
        Err(MultipartError::Malformed)
    }
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if from > haystack.len() || needle.is_empty() {
        return None;
    }
    haystack[from..]
        .windows(needle.len())
        .position(|window| window == needle)
        .map(|position| from + position)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TYPE: &str = "multipart/form-data; boundary=----WebKitFormBoundaryx7";

    /// The body Chromium sends for a text field and a file (captured shape:
    /// RFC 7578 §4 with the HTML form submission algorithm's escapes).
    fn body() -> Vec<u8> {
        let mut body = Vec::new();
        body.extend_from_slice(
            b"------WebKitFormBoundaryx7\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nabc.def\r\n",
        );
        body.extend_from_slice(b"------WebKitFormBoundaryx7\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a %22b%22.pdf\"\r\nContent-Type: application/pdf\r\n\r\n");
        body.extend_from_slice(b"%PDF-1.4\r\n\r\n--not a boundary\r\n\x00\xff");
        body.extend_from_slice(b"\r\n------WebKitFormBoundaryx7--\r\n");
        body
    }

    #[test]
    fn reads_fields_and_files() {
        let parts = parse(TYPE, &body()).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].name, "csrf");
        assert_eq!(parts[0].text(), "abc.def");
        assert_eq!(parts[0].file_name, None);
        assert_eq!(parts[1].name, "file");
        assert_eq!(parts[1].file_name.as_deref(), Some("a \"b\".pdf"));
        assert_eq!(parts[1].content_type.as_deref(), Some("application/pdf"));
        assert_eq!(
            parts[1].data,
            b"%PDF-1.4\r\n\r\n--not a boundary\r\n\x00\xff".to_vec()
        );
    }

    #[test]
    fn refuses_what_is_not_multipart() {
        assert_eq!(
            parse("application/x-www-form-urlencoded", b"a=b"),
            Err(MultipartError::NotMultipart)
        );
        assert_eq!(
            parse("multipart/form-data", b""),
            Err(MultipartError::NotMultipart)
        );
        let mut cut = body();
        cut.truncate(cut.len() - 40);
        assert_eq!(parse(TYPE, &cut), Err(MultipartError::Malformed));
        assert_eq!(parse(TYPE, b"no delimiter"), Err(MultipartError::Malformed));
        assert_eq!(
            boundary("multipart/form-data; boundary=\"quoted\""),
            Some("quoted".into())
        );
    }
}
