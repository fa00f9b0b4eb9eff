//! The state document's bytes: JSON in, [`State`] out, with a damaged or too-new document
//! reported (never repaired or overwritten).

use super::{FORMAT_VERSION, State, StateError};

/// Where a document came from, for messages.
pub struct Origin<'a> {
    pub location: &'a str,
    pub backup: &'a str,
}

impl Origin<'_> {
    fn corrupt(&self, reason: String) -> StateError {
        StateError::Corrupt {
            location: self.location.to_string(),
            reason,
            backup: self.backup.to_string(),
        }
    }
}

/// Reads a state document.
pub fn decode(bytes: &[u8], origin: &Origin<'_>) -> Result<State, StateError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(origin.corrupt("it is empty".into()));
    }
    // The header first (everything else skipped unparsed), then the document straight
    // into the model: no JSON tree of a large state is built only to be converted.
    let header: Header = serde_json::from_slice(bytes).map_err(|e| {
        origin.corrupt(if e.is_eof() {
            format!("it ends too early, as if cut off ({e})")
        } else if e.is_data() {
            // Valid JSON, but not an object.
            "no format version".to_string()
        } else {
            format!("not valid JSON ({e})")
        })
    })?;
    if header.terraform_version.is_some() {
        return Err(origin.corrupt(
            "it is a Terraform state file, not keel's; bring it in with keel state import-terraform".into(),
        ));
    }
    let Some(version) = header.version else {
        return Err(origin.corrupt("no format version".into()));
    };
    let Some(version) = version.as_u64() else {
        return Err(origin.corrupt(format!("format version {version} is not a number")));
    };
    if version > u64::from(FORMAT_VERSION) {
        return Err(StateError::TooNew {
            location: origin.location.to_string(),
            found: u32::try_from(version).unwrap_or(u32::MAX),
        });
    }
    if version == 0 {
        return Err(origin.corrupt("format version 0 does not exist".into()));
    }
    serde_json::from_slice(bytes).map_err(|e| origin.corrupt(e.to_string()))
}

/// The fields a document is checked by before it is read whole.
#[derive(serde::Deserialize)]
struct Header {
    #[serde(default)]
    version: Option<serde_json::Value>,
    #[serde(default)]
    terraform_version: Option<serde::de::IgnoredAny>,
}

/// Writes a state document: pretty JSON, one trailing newline.
pub fn encode(state: &State) -> Vec<u8> {
    let mut text = serde_json::to_vec_pretty(state).expect("state serialises");
    text.push(b'\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGIN: Origin<'static> = Origin {
        location: "state/s.json",
        backup: "state/s.json.backup",
    };

    fn reason(bytes: &[u8]) -> String {
        match decode(bytes, &ORIGIN).unwrap_err() {
            StateError::Corrupt { reason, backup, .. } => {
                assert_eq!(backup, "state/s.json.backup");
                reason
            }
            other => panic!("expected damage, got {other}"),
        }
    }

    #[test]
    fn round_trips() {
        let state = State::new("s");
        assert_eq!(decode(&encode(&state), &ORIGIN).unwrap(), state);
    }

    #[test]
    fn damage_is_named() {
        let whole = encode(&State::new("s"));
        assert!(reason(&whole[..whole.len() / 2]).contains("cut off"));
        assert!(reason(b"").contains("empty"));
        assert!(reason(b"{\"version\": 1, lineage}").contains("not valid JSON"));
        assert!(reason(b"{\"lineage\": \"x\"}").contains("no format version"));
        assert!(reason(b"{\"version\": \"1\"}").contains("not a number"));
        assert!(reason(b"{\"version\": 1, \"lineage\": 3}").contains("invalid type"));
        assert!(
            reason(b"{\"version\": 4, \"terraform_version\": \"1.9.0\"}")
                .contains("import-terraform")
        );
    }

    #[test]
    fn newer_versions_are_refused() {
        assert!(matches!(
            decode(b"{\"version\": 99}", &ORIGIN),
            Err(StateError::TooNew { found: 99, .. })
        ));
    }
}
