//! Where a workflow lives: `projects/P/locations/L`. Like GCP, the server takes any project
//! and location in a path; a workflow is found only in the parent it was deployed to.
//! Below everything but `config`, so the routes (the one place a path's parent is read,
//! `api/routes.rs`), the host and the wire renderings share it.

use std::fmt;

use crate::config::Config;

/// A project and location.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Parent {
    pub project: String,
    pub location: String,
}

/// Characters at most in a project or location segment: GCP's project ids are 30, its
/// domain-scoped ones longer; a path segment of kilobytes is no name.
const SEGMENT_CHARS_MAX: usize = 100;

impl Parent {
    /// The parent a path names, if its segments can be a project and a location: not
    /// empty, at most 100 characters, letters, digits and `-`, `_`, `.`, `:` (GCP's
    /// domain-scoped projects, `example.com:proj`). The reason otherwise.
    pub fn parse(project: &str, location: &str) -> Result<Parent, String> {
        for (what, value) in [("project", project), ("location", location)] {
            let ok = !value.is_empty()
                && value.len() <= SEGMENT_CHARS_MAX
                && value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
            if !ok || value == "-" {
                return Err(format!(
                    "'{value}' is not a {what} wfsim can serve: name one (letters, digits, \
                     '-', '_', '.', ':', at most {SEGMENT_CHARS_MAX} characters; no wildcard)"
                ));
            }
        }
        Ok(Parent {
            project: project.to_owned(),
            location: location.to_owned(),
        })
    }

    /// The parent `projects/P/locations/L` names (as [`Parent`]'s `Display` writes it).
    pub fn from_name(name: &str) -> Result<Parent, String> {
        match name.split('/').collect::<Vec<_>>()[..] {
            ["projects", project, "locations", location] => Parent::parse(project, location),
            _ => Err(format!(
                "'{name}' is not projects/PROJECT/locations/LOCATION"
            )),
        }
    }

    /// `--project`/`--location`: where the files `wfsim serve` is given are deployed.
    pub fn default_of(config: &Config) -> Parent {
        Parent {
            project: config.project.clone(),
            location: config.location.clone(),
        }
    }
}

/// `projects/P/locations/L`.
impl fmt::Display for Parent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "projects/{}/locations/{}", self.project, self.location)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_named_project_and_location_is_a_parent_and_wildcards_are_not() {
        let p = Parent::parse("acme-prod", "europe-west1").unwrap();
        assert_eq!(p.to_string(), "projects/acme-prod/locations/europe-west1");
        assert!(Parent::parse("example.com:proj", "us-central1").is_ok());
        assert!(Parent::parse("123456789", "global").is_ok());
        for (project, location) in [("", "l"), ("p", ""), ("-", "l"), ("p", "-"), ("a b", "l")] {
            let e = Parent::parse(project, location).unwrap_err();
            assert!(e.contains("wfsim can serve"), "{e}");
        }
        assert!(Parent::parse(&"p".repeat(101), "l").is_err());
        assert!(Parent::parse(&"p".repeat(100), "l").is_ok());
        assert_eq!(Parent::from_name(&p.to_string()), Ok(p));
        assert!(Parent::from_name("projects/p/regions/l").is_err());
        assert!(Parent::from_name("projects/p/locations/l/x").is_err());
    }
}
