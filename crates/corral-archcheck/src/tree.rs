//! A crate's module tree, read from its root file by following `mod`
//! declarations (`foo.rs` beside `foo/`, or `foo/mod.rs`; inline modules too).
//! For each module it keeps what the resolver needs: the names it defines,
//! the names it imports (with the path each stands for), its glob imports,
//! and every multi-segment path it mentions.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use proc_macro2::{TokenStream, TokenTree};
use syn::visit::Visit;
use syn::{Attribute, Item, UseTree};

/// One module of a crate.
#[derive(Debug, Default)]
pub struct Module {
    /// Names from the crate root down (empty for the root).
    pub path: Vec<String>,
    /// The file that holds the module's body.
    pub file: PathBuf,
    /// The enclosing module (`None` for the root).
    pub parent: Option<usize>,
    /// Child modules by name.
    pub children: BTreeMap<String, usize>,
    /// Items the module defines (types, functions, traits, constants, macros).
    pub items: BTreeSet<String>,
    /// Names brought in by `use`, each with the path it was imported from.
    pub imports: BTreeMap<String, Vec<String>>,
    /// Bases of `use …::*`.
    pub globs: Vec<Vec<String>>,
    /// Every path of two or more segments the module's non-test code names.
    pub refs: Vec<Reference>,
}

/// A path a module names.
#[derive(Debug, Clone)]
pub struct Reference {
    /// The path's segments as written.
    pub path: Vec<String>,
    /// Named by a `pub use` (any `pub`): a re-export, which declares rather
    /// than uses what it names.
    pub reexport: bool,
}

/// Every module of one crate; index 0 is the root.
#[derive(Debug)]
pub struct CrateTree {
    /// The modules, parents before children.
    pub modules: Vec<Module>,
}

impl CrateTree {
    /// Reads the crate whose root file (`lib.rs` or `main.rs`) is `root`.
    pub fn load(root: &Path) -> anyhow::Result<Self> {
        let mut tree = Self {
            modules: Vec::new(),
        };
        tree.load_file(root, &[], None)?;
        Ok(tree)
    }

    /// A module's path as `crate::a::b`.
    pub fn name(&self, module: usize) -> String {
        std::iter::once("crate")
            .chain(self.modules[module].path.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join("::")
    }

    fn load_file(
        &mut self,
        file: &Path,
        path: &[String],
        parent: Option<usize>,
    ) -> anyhow::Result<usize> {
        let text =
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        let parsed =
            syn::parse_file(&text).with_context(|| format!("parsing {}", file.display()))?;
        let owns_dir = matches!(
            file.file_name().and_then(|name| name.to_str()),
            Some("lib.rs" | "main.rs" | "mod.rs")
        );
        let base = file.parent().unwrap_or(Path::new("."));
        let dir = if owns_dir {
            base.to_path_buf()
        } else {
            base.join(file.file_stem().unwrap_or_default())
        };
        self.load_items(&parsed.items, file, &dir, path, parent)
    }

    fn load_items(
        &mut self,
        items: &[Item],
        file: &Path,
        dir: &Path,
        path: &[String],
        parent: Option<usize>,
    ) -> anyhow::Result<usize> {
        let index = self.modules.len();
        self.modules.push(Module {
            path: path.to_vec(),
            file: file.to_path_buf(),
            parent,
            ..Module::default()
        });
        let mut scan = Scan::default();
        for item in items {
            if is_test_only(item_attrs(item)) {
                continue;
            }
            let Item::Mod(module) = item else {
                scan.item(item);
                continue;
            };
            let name = module.ident.to_string();
            let mut child_path = path.to_vec();
            child_path.push(name.clone());
            let child = if let Some((_, content)) = &module.content {
                self.load_items(content, file, &dir.join(&name), &child_path, Some(index))?
            } else {
                let flat = dir.join(format!("{name}.rs"));
                let nested = dir.join(&name).join("mod.rs");
                match (flat.exists(), nested.exists()) {
                    (true, false) => self.load_file(&flat, &child_path, Some(index))?,
                    (false, true) => self.load_file(&nested, &child_path, Some(index))?,
                    (true, true) => bail!("both {} and {} exist", flat.display(), nested.display()),
                    (false, false) => bail!("module {name} of {} has no file", file.display()),
                }
            };
            self.modules[index].children.insert(name, child);
        }
        let module = &mut self.modules[index];
        module.items = scan.items;
        module.imports = scan.imports;
        module.globs = scan.globs;
        module.refs = scan.refs;
        Ok(index)
    }
}

/// What one module's items define, import and mention.
#[derive(Default)]
struct Scan {
    items: BTreeSet<String>,
    imports: BTreeMap<String, Vec<String>>,
    globs: Vec<Vec<String>>,
    refs: Vec<Reference>,
    /// Inside a `pub use` item.
    in_reexport: bool,
}

impl Scan {
    fn item(&mut self, item: &Item) {
        let defined = match item {
            Item::Const(item) => Some(&item.ident),
            Item::Enum(item) => Some(&item.ident),
            Item::Fn(item) => Some(&item.sig.ident),
            Item::Macro(item) => item.ident.as_ref(),
            Item::Static(item) => Some(&item.ident),
            Item::Struct(item) => Some(&item.ident),
            Item::Trait(item) => Some(&item.ident),
            Item::TraitAlias(item) => Some(&item.ident),
            Item::Type(item) => Some(&item.ident),
            Item::Union(item) => Some(&item.ident),
            _ => None,
        };
        if let Some(ident) = defined {
            self.items.insert(ident.to_string());
        }
        self.visit_item(item);
    }

    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &UseTree) {
        match tree {
            UseTree::Path(path) => {
                prefix.push(path.ident.to_string());
                self.use_tree(prefix, &path.tree);
                prefix.pop();
            }
            UseTree::Name(name) => {
                let ident = name.ident.to_string();
                if ident == "self" {
                    self.bind(prefix.last().cloned(), prefix.clone());
                } else {
                    let mut full = prefix.clone();
                    full.push(ident.clone());
                    self.bind(Some(ident), full);
                }
            }
            UseTree::Rename(rename) => {
                let mut full = prefix.clone();
                if rename.ident != "self" {
                    full.push(rename.ident.to_string());
                }
                self.bind(Some(rename.rename.to_string()), full);
            }
            UseTree::Glob(_) => self.globs.push(prefix.clone()),
            UseTree::Group(group) => {
                for tree in &group.items {
                    self.use_tree(prefix, tree);
                }
            }
        }
    }

    fn bind(&mut self, name: Option<String>, path: Vec<String>) {
        if path.is_empty() {
            return;
        }
        if let Some(name) = name.filter(|name| name != "_") {
            self.imports.entry(name).or_insert_with(|| path.clone());
        }
        self.refs.push(Reference {
            path,
            reexport: self.in_reexport,
        });
    }

    /// Paths inside a macro call are tokens, not syntax: `crate::a::b`,
    /// `super::…` and `self::…` runs are taken from them.
    fn tokens(&mut self, tokens: TokenStream) {
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        let mut index = 0;
        while index < trees.len() {
            if let TokenTree::Group(group) = &trees[index] {
                self.tokens(group.stream());
                index += 1;
                continue;
            }
            let starts = matches!(&trees[index], TokenTree::Ident(ident)
                if ident == "crate" || ident == "super" || ident == "self");
            if !starts {
                index += 1;
                continue;
            }
            let mut path = Vec::new();
            while let Some(TokenTree::Ident(ident)) = trees.get(index) {
                path.push(ident.to_string());
                if !is_path_separator(&trees, index + 1) {
                    break;
                }
                index += 3;
            }
            if path.len() >= 2 {
                self.refs.push(Reference {
                    path,
                    reexport: false,
                });
            }
            index += 1;
        }
    }
}

fn is_path_separator(trees: &[TokenTree], at: usize) -> bool {
    matches!((trees.get(at), trees.get(at + 1)),
        (Some(TokenTree::Punct(first)), Some(TokenTree::Punct(second)))
            if first.as_char() == ':' && second.as_char() == ':')
}

impl<'ast> Visit<'ast> for Scan {
    fn visit_item(&mut self, item: &'ast Item) {
        if is_test_only(item_attrs(item)) {
            return;
        }
        match item {
            // Inline modules are modules of their own, loaded by the tree.
            Item::Mod(_) => {}
            Item::Use(item) => {
                self.in_reexport = !matches!(item.vis, syn::Visibility::Inherited);
                self.use_tree(&mut Vec::new(), &item.tree);
                self.in_reexport = false;
            }
            _ => syn::visit::visit_item(self, item),
        }
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        if path.leading_colon.is_none() && path.segments.len() >= 2 {
            let path = path
                .segments
                .iter()
                .map(|segment| segment.ident.to_string())
                .collect();
            self.refs.push(Reference {
                path,
                reexport: false,
            });
        }
        syn::visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.visit_path(&mac.path);
        self.tokens(mac.tokens.clone());
    }

    fn visit_impl_item_fn(&mut self, item: &'ast syn::ImplItemFn) {
        if !is_test_only(&item.attrs) {
            syn::visit::visit_impl_item_fn(self, item);
        }
    }
}

fn item_attrs(item: &Item) -> &[Attribute] {
    match item {
        Item::Const(item) => &item.attrs,
        Item::Enum(item) => &item.attrs,
        Item::ExternCrate(item) => &item.attrs,
        Item::Fn(item) => &item.attrs,
        Item::ForeignMod(item) => &item.attrs,
        Item::Impl(item) => &item.attrs,
        Item::Macro(item) => &item.attrs,
        Item::Mod(item) => &item.attrs,
        Item::Static(item) => &item.attrs,
        Item::Struct(item) => &item.attrs,
        Item::Trait(item) => &item.attrs,
        Item::TraitAlias(item) => &item.attrs,
        Item::Type(item) => &item.attrs,
        Item::Union(item) => &item.attrs,
        Item::Use(item) => &item.attrs,
        _ => &[],
    }
}

/// `#[test]`, or a `#[cfg(…)]` that names `test` without negating it.
fn is_test_only(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|attr| {
        if attr.path().is_ident("test") {
            return true;
        }
        if !attr.path().is_ident("cfg") {
            return false;
        }
        let syn::Meta::List(list) = &attr.meta else {
            return false;
        };
        let text = list.tokens.to_string();
        text.split(|c: char| !c.is_alphanumeric() && c != '_')
            .any(|word| word == "test")
            && !text.contains("not")
    })
}

/// The root files (`src/lib.rs`, `src/main.rs`) of every crate under
/// `crates_dir`, in path order.
pub fn crate_roots(crates_dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut roots = Vec::new();
    for entry in std::fs::read_dir(crates_dir)? {
        let src = entry?.path().join("src");
        for root in ["lib.rs", "main.rs"] {
            if src.join(root).exists() {
                roots.push(src.join(root));
            }
        }
    }
    roots.sort();
    Ok(roots)
}
