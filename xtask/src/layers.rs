//! Layers without circles: every crate's modules, read from their `use crate::…` and
//! `use super::…` imports, must form a graph with no cycle, so each module can be read
//! knowing only the ones below it. A test module at a file's end (`#[cfg(test)] mod tests`)
//! is left out: tests may look anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use crate::project_root;

/// A module by its path inside its crate: `[]` is the crate root, `["defn", "build"]` is
/// `defn/build.rs` or `defn/build/mod.rs`.
type Module = Vec<String>;

/// Every module of the crate whose `src/` is `src`, with its file.
fn modules(src: &Path) -> BTreeMap<Module, PathBuf> {
    let mut out = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(src).expect("under src");
                let mut parts: Vec<String> = rel
                    .with_extension("")
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                if rel.starts_with("bin") {
                    continue; // each binary is a crate of its own
                }
                if matches!(
                    parts.last().map(String::as_str),
                    Some("mod" | "lib" | "main")
                ) {
                    parts.pop();
                }
                out.insert(parts, path);
            }
        }
    }
    out
}

/// The paths of `text` that start at `crate::` or `super::`: every `use` of them, each
/// expanded (`a::{b, c::d}` → `a::b`, `a::c::d`), and every path written inline in code
/// (`crate::time::secs_text(d)`), comments left out.
fn imports(text: &str) -> Vec<String> {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    };
    let mut out = Vec::new();
    let mut statement: Option<String> = None;
    for line in text.lines() {
        let code = line.find("//").map_or(line, |i| &line[..i]);
        if let Some(open) = statement.as_mut() {
            open.push(' ');
            open.push_str(code);
        } else {
            let trimmed = code.trim_start();
            let after_pub = match trimmed.strip_prefix("pub") {
                Some(r) => r.trim_start_matches(|c| c != ' ').trim_start(),
                None => trimmed,
            };
            match after_pub.strip_prefix("use ") {
                Some(tree) => statement = Some(tree.to_owned()),
                None => inline_paths(code, &mut out),
            }
        }
        if let Some(tree) = statement.take_if(|t| t.contains(';')) {
            let tree = &tree[..tree.find(';').expect("checked")];
            let tree: String = tree.split_whitespace().collect::<Vec<_>>().join(" ");
            if tree.starts_with("crate::") || tree.starts_with("super::") {
                expand(&tree, &mut out);
            }
        }
    }
    out
}

/// Every `crate::…` and `super::…` path written in a line of code.
fn inline_paths(code: &str, out: &mut Vec<String>) {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    for start in ["crate::", "super::"] {
        for (i, _) in code.match_indices(start) {
            if code[..i].ends_with(is_word) {
                continue; // `use_crate::`, `my_super::`: another word
            }
            let len = code[i..]
                .find(|c: char| !(is_word(c) || c == ':'))
                .unwrap_or(code.len() - i);
            out.push(code[i..i + len].trim_end_matches(':').to_owned());
        }
    }
}

fn expand(tree: &str, out: &mut Vec<String>) {
    let Some(open) = tree.find('{') else {
        out.push(tree.split(" as ").next().unwrap_or(tree).trim().to_owned());
        return;
    };
    let prefix = &tree[..open];
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                push_item(prefix, &inner[start..i], out);
                start = i + 1;
            }
            _ => {}
        }
    }
    push_item(prefix, &inner[start..], out);
}

fn push_item(prefix: &str, item: &str, out: &mut Vec<String>) {
    let item = item.trim();
    if !item.is_empty() {
        expand(&format!("{prefix}{item}"), out);
    }
}

/// The module an import of `from` lands in: the longest prefix of its path that is a
/// module. `None` for `from` itself or one of its ancestors, whose items a module may use
/// without closing a circle.
fn target(from: &Module, path: &str, mods: &BTreeMap<Module, PathBuf>) -> Option<Module> {
    let mut parts = path.split("::").filter(|p| *p != "self").peekable();
    let mut at: Module = if parts.peek() == Some(&"crate") {
        parts.next();
        Vec::new()
    } else {
        from.clone()
    };
    while parts.peek() == Some(&"super") {
        parts.next();
        at.pop();
    }
    at.extend(parts.map(str::to_owned));
    let found = (0..=at.len())
        .rev()
        .map(|n| &at[..n])
        .find(|m| mods.contains_key(*m))?;
    (!from.starts_with(found)).then(|| found.to_vec())
}

/// The import graph of the crate at `src`: module → the modules it imports from.
fn graph(src: &Path) -> BTreeMap<Module, BTreeSet<Module>> {
    let mods = modules(src);
    let mut edges: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    for (m, file) in &mods {
        let text = fs::read_to_string(file).expect("readable source");
        let out = edges.entry(m.clone()).or_default();
        for path in imports(&text) {
            if let Some(t) = target(m, &path, &mods) {
                out.insert(t);
            }
        }
    }
    edges
}

/// The strongly connected components of more than one module (Tarjan), each sorted.
fn circles(edges: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<Vec<Module>> {
    struct Walk<'a> {
        edges: &'a BTreeMap<Module, BTreeSet<Module>>,
        index: BTreeMap<&'a Module, (usize, usize)>,
        stack: Vec<&'a Module>,
        on_stack: BTreeSet<&'a Module>,
        out: Vec<Vec<Module>>,
    }
    impl<'a> Walk<'a> {
        fn visit(&mut self, v: &'a Module) {
            let n = self.index.len();
            self.index.insert(v, (n, n));
            self.stack.push(v);
            self.on_stack.insert(v);
            for w in self.edges.get(v).into_iter().flatten() {
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.index[w].1.min(self.index[v].1);
                    self.index.get_mut(v).expect("visited").1 = low;
                } else if self.on_stack.contains(w) {
                    let low = self.index[w].0.min(self.index[v].1);
                    self.index.get_mut(v).expect("visited").1 = low;
                }
            }
            if self.index[v].0 == self.index[v].1 {
                let mut comp = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(w);
                    comp.push(w.clone());
                    if w == v {
                        break;
                    }
                }
                if comp.len() > 1 {
                    comp.sort();
                    self.out.push(comp);
                }
            }
        }
    }
    let mut walk = Walk {
        edges,
        index: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in edges.keys() {
        if !walk.index.contains_key(v) {
            walk.visit(v);
        }
    }
    walk.out
}

/// The graph at every level of nesting: for each module, its child modules with all that
/// is below each folded into it, so `defn/*` is one node beside `error`, and a circle
/// through a folder (`error` → `defn`, `defn::build` → `error`) is a circle too.
fn levels(edges: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<BTreeMap<Module, BTreeSet<Module>>> {
    let mut out = Vec::new();
    for parent in edges.keys() {
        let child = |m: &Module| -> Option<Module> {
            (m.len() > parent.len() && m.starts_with(parent)).then(|| m[..=parent.len()].to_vec())
        };
        let mut level: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
        for (a, targets) in edges {
            let Some(ca) = child(a) else { continue };
            let from = level.entry(ca.clone()).or_default();
            for b in targets {
                if let Some(cb) = child(b).filter(|cb| *cb != ca) {
                    from.insert(cb);
                }
            }
        }
        if level.len() > 1 {
            out.push(level);
        }
    }
    out
}

fn name(m: &Module) -> String {
    if m.is_empty() {
        "crate".to_owned()
    } else {
        m.join("::")
    }
}

/// Every crate of the workspace: each folder beside the root (or in `clients/`) with a
/// `Cargo.toml` and a `src/`.
fn crate_sources(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for base in [root.to_path_buf(), root.join("clients")] {
        let Ok(entries) = fs::read_dir(&base) else {
            continue;
        };
        for entry in entries.flatten() {
            let dir = entry.path();
            if dir.join("Cargo.toml").is_file() && dir.join("src").is_dir() {
                out.push(dir.join("src"));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn no_crate_has_an_import_circle() {
    let root = project_root();
    let sources = crate_sources(&root);
    assert!(sources.len() >= 9, "found only {sources:?}");
    let mut failures = Vec::new();
    for src in sources {
        let rel = src
            .strip_prefix(&root)
            .unwrap_or(&src)
            .display()
            .to_string();
        let files = graph(&src);
        let mut seen = BTreeSet::new();
        for edges in std::iter::once(files.clone()).chain(levels(&files)) {
            for comp in circles(&edges)
                .into_iter()
                .filter(|c| seen.insert(c.clone()))
            {
                let members: BTreeSet<&Module> = comp.iter().collect();
                let arrows: Vec<String> = comp
                    .iter()
                    .flat_map(|a| {
                        edges[a]
                            .iter()
                            .filter(|b| members.contains(b))
                            .map(move |b| format!("{} -> {}", name(a), name(b)))
                    })
                    .collect();
                failures.push(format!("{rel}: {}", arrows.join(", ")));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "import circles (a module's `use crate::`/`use super::` imports and inline \
         `crate::` paths must not lead back to it, between files or folders):\n{}",
        failures.join("\n")
    );
}

#[test]
fn imports_are_read_resolved_and_circles_found() {
    let got = imports(
        "use std::fmt;\nuse crate::a::{B, c::{D, e}};\npub(crate) use super::f as g;\n    use crate::h;\n// use crate::comment;\nlet x = use_crate::z(crate::z::w(1)); // crate::y\n#[cfg(test)]\nmod tests {\n    use crate::t;\n}\n",
    );
    assert_eq!(
        got,
        [
            "crate::a::B",
            "crate::a::c::D",
            "crate::a::c::e",
            "super::f",
            "crate::h",
            "crate::z::w"
        ]
    );

    let m = |s: &str| -> Module {
        s.split('/')
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let mods: BTreeMap<Module, PathBuf> = ["", "a", "a/c", "b", "b/x"]
        .iter()
        .map(|s| (m(s), PathBuf::new()))
        .collect();
    assert_eq!(target(&m("b"), "crate::a::c::D", &mods), Some(m("a/c")));
    assert_eq!(target(&m("b/x"), "super::Y", &mods), None, "a parent");
    assert_eq!(target(&m("b/x"), "super::super::a::Z", &mods), Some(m("a")));
    assert_eq!(target(&m("b"), "super::a", &mods), Some(m("a")));

    let mut edges: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    edges.entry(m("a")).or_default().insert(m("b"));
    edges.entry(m("b")).or_default().insert(m("a/c"));
    edges.entry(m("a/c")).or_default().insert(m("a"));
    edges.entry(m("b/x")).or_default().insert(m("b"));
    assert_eq!(circles(&edges), [vec![m("a"), m("a/c"), m("b")]]);
    edges.get_mut(&m("a/c")).unwrap().clear();
    assert!(circles(&edges).is_empty());
    // No circle between files, but one between `a/*` and `b` once `a`'s folder is one node.
    edges.get_mut(&m("a/c")).unwrap().insert(m("b/x"));
    edges.get_mut(&m("b/x")).unwrap().clear();
    edges.insert(m(""), BTreeSet::new());
    assert!(circles(&edges).is_empty());
    assert_eq!(circles(&levels(&edges)[0]), [vec![m("a"), m("b")]]);
}
