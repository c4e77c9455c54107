//! The PWA's layout: every file the app loads is in the service worker's lists
//! (or it is missing offline, or it breaks the install when a listed file is
//! gone), and the zh-CN and English tables have the same keys. The lists are read
//! from `pwa/` on disk; the tables are loaded as the app loads them, in Chromium.
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::support::spawn_app;
use crate::{assert_shell, skip, with_browser};

fn pwa_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../pwa")
}

/// A file of the PWA by its URL path (`/sw.js`).
fn read(url: &str) -> String {
    let path = pwa_dir().join(url.trim_start_matches('/'));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Every file under `pwa/` as a URL path, sorted.
fn pwa_files() -> Vec<String> {
    fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                walk(&path, base, out);
            } else {
                let rel = path.strip_prefix(base).expect("under pwa/");
                out.push(format!("/{}", rel.to_string_lossy().replace('\\', "/")));
            }
        }
    }
    let base = pwa_dir();
    let mut out = Vec::new();
    walk(&base, &base, &mut out);
    out.sort();
    out
}

/// The quoted paths of `const NAME = [ … ];` in sw.js, comment lines left out.
fn sw_list(sw: &str, name: &str) -> Vec<String> {
    let start = sw
        .find(&format!("const {name} = ["))
        .unwrap_or_else(|| panic!("sw.js has no `const {name} = [`"));
    let list = &sw[start..];
    let list = &list[..list.find("];").expect("the list ends with `];`")];
    list.lines()
        .skip(1)
        .filter_map(|l| l.trim().strip_prefix('\''))
        .filter_map(|l| l.split('\'').next())
        .map(str::to_owned)
        .collect()
}

/// The specifiers of a module's static imports (`import … from '…'`, `import '…'`),
/// not the dynamic `import(…)` of views loaded on first use.
fn static_imports(source: &str) -> Vec<String> {
    source
        .lines()
        .map(str::trim)
        .filter_map(|l| {
            if let Some(rest) = l.strip_prefix("import '") {
                return Some(rest);
            }
            let from = l.starts_with("import ") || l.starts_with("} from ");
            from.then(|| l.split_once(" from '").map(|(_, rest)| rest))
                .flatten()
        })
        .filter_map(|rest| rest.split('\'').next())
        .map(str::to_owned)
        .collect()
}

/// A specifier relative to the module `from` (both URL paths) as a URL path.
fn resolve(from: &str, spec: &str) -> String {
    if spec.starts_with('/') {
        return spec.to_owned();
    }
    let mut parts: Vec<&str> = from.split('/').filter(|p| !p.is_empty()).collect();
    parts.pop();
    for p in spec.split('/') {
        match p {
            "." => {}
            ".." => {
                parts.pop();
            }
            _ => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

#[test]
fn service_worker_lists_every_module_and_stylesheet_and_only_files_that_exist() {
    // Arrange
    let sw = read("/sw.js");
    let shell = sw_list(&sw, "SHELL");
    let on_demand = sw_list(&sw, "ON_DEMAND");
    assert!(
        shell.contains(&"/index.html".to_owned()),
        "SHELL parsed: {shell:?}"
    );
    assert!(!on_demand.is_empty(), "ON_DEMAND parsed");
    let listed: Vec<&String> = shell.iter().chain(&on_demand).collect();

    // Act
    let files = pwa_files();
    let unlisted: Vec<&String> = files
        .iter()
        .filter(|f| f.ends_with(".js") || f.ends_with(".css"))
        .filter(|f| *f != "/sw.js" && !listed.contains(f))
        .collect();
    let gone: Vec<&&String> = listed
        .iter()
        .filter(|p| p.as_str() != "/" && !files.contains(p))
        .collect();
    let mut seen = BTreeSet::new();
    let twice: Vec<&&String> = listed.iter().filter(|p| !seen.insert(**p)).collect();

    // Assert
    assert!(
        unlisted.is_empty(),
        "in pwa/ but in neither SHELL nor ON_DEMAND of pwa/sw.js, so never there offline: {unlisted:?}"
    );
    assert!(
        gone.is_empty(),
        "listed in pwa/sw.js but not in pwa/ (a SHELL entry that 404s fails the install): {gone:?}"
    );
    assert!(twice.is_empty(), "listed twice in pwa/sw.js: {twice:?}");
}

#[test]
fn service_worker_precaches_everything_the_shell_loads_before_the_first_route() {
    // Arrange: what index.html links, and what app.js imports statically, transitively.
    let shell = sw_list(&read("/sw.js"), "SHELL");
    let html = read("/index.html");
    let mut needed: BTreeSet<String> = ["href=\"", "src=\""]
        .iter()
        .flat_map(|attr| html.split(attr).skip(1))
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_owned)
        .collect();
    assert!(needed.contains("/app.js"), "index.html parsed: {needed:?}");
    let mut todo = vec!["/app.js".to_owned()];
    let mut walked = BTreeSet::new();

    // Act
    while let Some(module) = todo.pop() {
        if !walked.insert(module.clone()) {
            continue;
        }
        for spec in static_imports(&read(&module)) {
            let path = resolve(&module, &spec);
            needed.insert(path.clone());
            todo.push(path);
        }
    }
    let missing: Vec<&String> = needed.iter().filter(|p| !shell.contains(p)).collect();

    // Assert
    assert!(
        needed.contains("/kit.js") && needed.contains("/i18n/index.js"),
        "the shell's imports were followed: {needed:?}"
    );
    assert!(
        missing.is_empty(),
        "the shell loads these before any route, so SHELL in pwa/sw.js must precache them \
         (or the app does not start offline): {missing:?}"
    );
}

/// Loads the tables in order into the page and returns, per table, the keys it
/// leaves in one language only, and how many keys each language has at the end.
const COMPARE_KEYS: &str = r"
const [tables, done] = arguments;
(async () => {
  const i18n = await import(tables[0]);
  const out = { tables: {} };
  const known = new Set();
  for (const table of tables) {
    await import(table);
    const zh = new Set(i18n.keys('zh-CN'));
    const en = new Set(i18n.keys('en'));
    const diff = [
      ...[...zh].filter((k) => !en.has(k)).map((k) => `${k} (zh-CN only)`),
      ...[...en].filter((k) => !zh.has(k)).map((k) => `${k} (en only)`),
    ];
    out.tables[table] = diff.filter((d) => !known.has(d));
    diff.forEach((d) => known.add(d));
    out.zh = zh.size;
    out.en = en.size;
  }
  return out;
})().then(done, (e) => done({ error: String(e) }));
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn i18n_tables_have_the_same_keys_in_zh_cn_and_english() {
    if skip("i18n_tables_have_the_same_keys_in_zh_cn_and_english") {
        return;
    }
    // Arrange: the shell's table first, then every table a view loads.
    let mut tables = vec!["/i18n/index.js".to_owned()];
    tables.extend(
        pwa_files()
            .into_iter()
            .filter(|f| f.starts_with("/i18n/") && f.ends_with(".js") && f != "/i18n/index.js"),
    );
    assert!(tables.len() >= 3, "the tables in pwa/i18n/: {tables:?}");
    let app = spawn_app().await;
    with_browser(|c| async move {
        c.goto(&app.url("/login")).await.expect("open app");
        assert_shell(&c).await;

        // Act
        let got = c
            .execute_async(COMPARE_KEYS, vec![json!(tables)])
            .await
            .expect("compare the tables");

        // Assert
        assert!(got.get("error").is_none(), "loading the tables: {got}");
        let one_sided: Vec<(&String, &Value)> = got["tables"]
            .as_object()
            .expect("a result per table")
            .iter()
            .filter(|(_, keys)| keys.as_array().is_some_and(|k| !k.is_empty()))
            .collect();
        assert!(
            one_sided.is_empty(),
            "keys in one language only, by the table that adds them: {one_sided:?}"
        );
        assert!(
            got["zh"].as_u64().is_some_and(|n| n > 100),
            "keys were read: {got}"
        );
        assert_eq!(got["zh"], got["en"]);
    })
    .await;
}
