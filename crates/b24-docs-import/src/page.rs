//! What a docs page is, decided by rule from its text (never from its file name): a *method
//! page* documents exactly one REST method; every other page (an overview, an event, a
//! tutorial, a field list, an include fragment) is a *non-method page* the importer skips.
//!
//! The method's name is taken from the first of these the page has:
//!
//! 1. the title, when it ends with the name (`# Получить диалог imopenlines.dialog.get`, today's
//!    template);
//! 2. a name line under the title (`> Название метода: **tasks.api.scrum.task.get**`,
//!    `> Method name: ...`);
//! 3. the title of an info note (`{% note info "sonet_group.get" %}`, the 2024 template);
//! 4. the first sentence of the first paragraph, when it opens with the method in a code span
//!    or bold (`Метод `user.get` возвращает...`, `The method `user.get` returns...`).
//!
//! A name with `*` (`disk.folder.*`) stands for a family of methods: the page is an overview.
//! A name such as `OnTaskAdd` is an event.

use std::fmt;

use crate::markdown::{self, Block, Table};

/// Where a method page names its method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NameSource {
    /// The `# Title` ends with it.
    Title,
    /// A `> Название метода: **name**` line.
    NameLine,
    /// `{% note info "name" %}`.
    Note,
    /// The first sentence: ``Метод `name` ...``.
    FirstSentence,
}

/// Why a page is not a method page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NotMethod {
    /// No `# Title`: an include fragment or a snippet.
    Fragment,
    /// It names a family of methods (`disk.*`) or calls itself an overview.
    Overview,
    /// It documents an event (`OnTaskAdd`), not a method.
    Event,
    /// It names no method (or only a template's stand-in such as `crm.xxx`): a tutorial, a
    /// how-to, a list of fields, a page template.
    NoMethodNamed,
}

impl NotMethod {
    /// A short label for reports.
    pub fn label(self) -> &'static str {
        match self {
            NotMethod::Fragment => "fragment (no title)",
            NotMethod::Overview => "overview",
            NotMethod::Event => "event",
            NotMethod::NoMethodNamed => "names no method (how-to, fields, tutorial, page template)",
        }
    }
}

impl fmt::Display for NotMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// What a page is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageKind {
    /// It documents one REST method.
    Method {
        /// The method's name (`sonet_group.user.add`).
        name: String,
        /// Where the page names it.
        from: NameSource,
        /// 1-based line of that place.
        line: usize,
    },
    /// Anything else.
    NotMethod(NotMethod),
}

/// A REST method name: two or more dot-separated segments of ASCII letters, digits and `_`,
/// starting with a lower-case letter (`imopenlines.dialog.get`, `sonet_group.user.add`).
pub fn is_method_name(s: &str) -> bool {
    s.split('.').count() >= 2
        && s.split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        && s.starts_with(|c: char| c.is_ascii_lowercase())
}

/// An event name: `On` and an upper-case letter, then letters and digits (`OnTaskAdd`).
pub fn is_event_name(s: &str) -> bool {
    s.strip_prefix("On").is_some_and(|rest| {
        rest.starts_with(|c: char| c.is_ascii_uppercase())
            && rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// `name` without the markup and punctuation the docs wrap it in (`` ` ``, `*`, a trailing
/// `!` or `:`). Keeps an inner `*` (a family wildcard).
fn bare(s: &str) -> &str {
    s.trim()
        .trim_matches(|c: char| c == '`' || c == '"' || c == '\'')
        .trim_start_matches('*')
        .trim_end_matches(['!', ':', ',', ';', '.', '`', ')', '('])
        .trim_end_matches("**")
        .trim_matches('`')
}

/// What a candidate word is.
enum Candidate {
    Method(String),
    Family,
    Event,
}

/// A page template's stand-in (`bizproc.xxx.xxx`): a segment of three or more `x`.
fn is_placeholder(name: &str) -> bool {
    name.split('.')
        .any(|seg| seg.len() >= 3 && seg.chars().all(|c| c == 'x' || c == 'X'))
}

fn candidate(word: &str) -> Option<Candidate> {
    let w = bare(word);
    if is_placeholder(w) {
        None
    } else if is_method_name(w) {
        Some(Candidate::Method(w.to_string()))
    } else if w.contains('*') && is_method_name(&w.replace('*', "x")) {
        Some(Candidate::Family)
    } else if is_event_name(w) {
        Some(Candidate::Event)
    } else {
        None
    }
}

/// The word after a `Название метода:` / `Method name:` label, if the line is one.
fn name_line(t: &str) -> Option<&str> {
    let t = t.trim_start_matches('>').trim().trim_start_matches("**");
    let lower = t.to_lowercase();
    if !["название метода", "method name", "имя метода"]
        .iter()
        .any(|label| lower.starts_with(label))
    {
        return None;
    }
    let (_, rest) = t.split_once(':')?;
    rest.trim_start_matches(['*', ' '])
        .split_whitespace()
        .next()
}

/// `{% note info "title" %}` → `title`.
fn note_title(t: &str) -> Option<&str> {
    let rest = t.strip_prefix("{% note")?;
    let open = rest.find('"')?;
    let tail = rest.get(open + 1..)?;
    let close = tail.find('"')?;
    tail.get(..close)
}

/// The method a sentence opens with: ``Метод `x.y` ...``, ``Метод **x.y** ...``,
/// ``The method `x.y` ...``, ``Method `x.y` ...``.
fn first_sentence_name(t: &str) -> Option<&str> {
    let rest = ["Метод ", "The method ", "Method ", "This method "]
        .iter()
        .find_map(|p| t.strip_prefix(p))?;
    let word = rest.split_whitespace().next()?;
    (word.starts_with('`') || word.starts_with("**")).then_some(word)
}

/// Whether a table lists methods: its first column is headed `Метод` / `Method` and at least
/// two rows name a method there (`[user.userfield.add](./x.md)`, `` `disk.file.get` ``).
fn lists_methods(t: &Table) -> bool {
    let Some((header, rows)) = t.rows.split_first() else {
        return false;
    };
    let headed = header.cells.first().is_some_and(|c| {
        let c = c.trim().to_lowercase();
        c.starts_with("**метод**") || c.starts_with("**method**")
    });
    let named = rows
        .iter()
        .filter(|r| {
            let first = r.cells.first().map_or("", String::as_str);
            let text = first
                .split(']')
                .next()
                .unwrap_or("")
                .trim()
                .trim_start_matches('[');
            is_method_name(bare(text))
        })
        .count();
    headed && named >= 2
}

/// Classifies a page (see the module docs for the rules). The page is read with
/// [`markdown::read`], so author-only `{% if build == 'dev' %}` blocks and code never count.
pub fn classify(src: &str) -> PageKind {
    let blocks = markdown::read(src).blocks;
    let Some(title_at) = blocks
        .iter()
        .position(|b| matches!(b, Block::Heading(h) if h.level == 1))
    else {
        return PageKind::NotMethod(NotMethod::Fragment);
    };
    let Some(Block::Heading(title)) = blocks.get(title_at) else {
        return PageKind::NotMethod(NotMethod::Fragment);
    };
    let mut family = false;
    let mut event = false;
    let mut found: Option<(String, NameSource, usize)> = None;
    let mut consider =
        |word: Option<&str>, from: NameSource, line: usize| match word.and_then(candidate) {
            Some(Candidate::Method(name)) if found.is_none() => found = Some((name, from, line)),
            Some(Candidate::Family) => family = true,
            Some(Candidate::Event) => event = true,
            _ => {}
        };
    consider(
        title.text.split_whitespace().last(),
        NameSource::Title,
        title.line,
    );
    let mut in_note = 0usize;
    let mut first_paragraph_seen = false;
    for b in blocks.iter().skip(title_at + 1) {
        let (line, t) = match b {
            Block::Heading(h) if h.level == 2 => break,
            // Another heading before the first section is the page's opening text too.
            Block::Heading(h) => (h.line, h.text.as_str()),
            Block::Text { line, text } => (*line, text.as_str()),
            Block::Code(_) | Block::Table(_) => continue,
        };
        if let Some(w) = name_line(t) {
            consider(Some(w), NameSource::NameLine, line);
            continue;
        }
        if t.starts_with("{% note") {
            in_note += 1;
            if t.starts_with("{% note info") {
                consider(note_title(t), NameSource::Note, line);
            }
            continue;
        }
        if t.starts_with("{% endnote") {
            in_note = in_note.saturating_sub(1);
            continue;
        }
        if in_note > 0
            || t.starts_with('>')
            || t.starts_with("{%")
            || t.starts_with('-')
            || t.starts_with('|')
        {
            continue;
        }
        if !first_paragraph_seen {
            first_paragraph_seen = true;
            consider(first_sentence_name(t), NameSource::FirstSentence, line);
        }
    }
    let title_lower = title.text.to_lowercase();
    // A table of methods makes a page an overview, unless its title names the method.
    family |= blocks
        .iter()
        .any(|b| matches!(b, Block::Table(t) if lists_methods(t)));
    if let Some((name, from, line)) = found {
        // A title naming a method wins over "overview" wording in it.
        if from == NameSource::Title || !(family || title_lower.contains("обзор")) {
            return PageKind::Method { name, from, line };
        }
    }
    if event || title_lower.contains("событи") && !title_lower.contains("обзор") {
        PageKind::NotMethod(NotMethod::Event)
    } else if family || title_lower.contains("обзор") || title_lower.contains("overview") {
        PageKind::NotMethod(NotMethod::Overview)
    } else {
        PageKind::NotMethod(NotMethod::NoMethodNamed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(src: &str) -> Option<(String, NameSource)> {
        match classify(src) {
            PageKind::Method { name, from, .. } => Some((name, from)),
            PageKind::NotMethod(_) => None,
        }
    }

    #[test]
    fn each_place_a_page_names_its_method() {
        assert_eq!(
            name("# Получить диалог imopenlines.dialog.get\n\n> Scope: x\n"),
            Some(("imopenlines.dialog.get".into(), NameSource::Title))
        );
        assert_eq!(
            name("# Получить поля\n\n> Название метода: **tasks.api.scrum.task.get**\n>\n> Scope: [`task`](x)\n"),
            Some(("tasks.api.scrum.task.get".into(), NameSource::NameLine))
        );
        assert_eq!(
            name("# Удаление процесса\n\n{% note info \"bizproc.workflow.kill!\" %}\n\n{% endnote %}\n"),
            Some(("bizproc.workflow.kill".into(), NameSource::Note))
        );
        assert_eq!(
            name("# Получение списка групп\n\n{% note info \"sonet_group.get\" %}\ntext\n{% endnote %}\n\n## Описание\n"),
            Some(("sonet_group.get".into(), NameSource::Note))
        );
        assert_eq!(
            name("# Список полей\n\n{% note warning \"x\" %}\nМетод `a.b` там\n{% endnote %}\n\nМетод `tasks.api.scrum.epic.getFields` возвращает поля.\n"),
            Some(("tasks.api.scrum.epic.getFields".into(), NameSource::FirstSentence))
        );
    }

    #[test]
    fn non_method_pages_by_rule() {
        assert_eq!(
            classify("no title\n"),
            PageKind::NotMethod(NotMethod::Fragment)
        );
        assert_eq!(
            classify("# Файлы\n\n{% note info \"disk.file.*\" %}\n{% endnote %}\n"),
            PageKind::NotMethod(NotMethod::Overview)
        );
        assert_eq!(
            classify("# Задачи: обзор методов\n\nМетод `tasks.task.add` создает задачу.\n"),
            PageKind::NotMethod(NotMethod::Overview)
        );
        assert_eq!(
            classify("# Поля\n\n{% note info \"user.userfield\" %}\n{% endnote %}\n\n#|\n|| **Метод** | **Описание** ||\n|| [user.userfield.add](a.md) | x ||\n|| [user.userfield.get](b.md) | y ||\n|#\n"),
            PageKind::NotMethod(NotMethod::Overview)
        );
        // A parameters table mislabelled `Метод` does not make a method page an overview.
        assert_eq!(
            name("# Путь к файлу\n\n{% note info \"lists.element.get.file.url\" %}\n{% endnote %}\n\n#|\n|| **Метод** | **Описание** ||\n|| **IBLOCK_ID** | x ||\n|#\n"),
            Some(("lists.element.get.file.url".into(), NameSource::Note))
        );
        assert_eq!(
            classify("# При добавлении задачи OnTaskAdd\n\n> Scope: x\n"),
            PageKind::NotMethod(NotMethod::Event)
        );
        assert_eq!(
            classify("# Как создать задачу\n\nСначала вызовите `tasks.task.add`.\n"),
            PageKind::NotMethod(NotMethod::NoMethodNamed)
        );
        // The docs' page template names a stand-in.
        assert_eq!(
            classify("# Сделать то-то\n\n{% note info \"bizproc.xxx.xxx\" %}\n{% endnote %}\n"),
            PageKind::NotMethod(NotMethod::NoMethodNamed)
        );
        // A name inside a dev-only block or a code fence does not count.
        assert_eq!(
            classify("# Шаблон\n\n{% if build == 'dev' %}\n{% note info \"a.b\" %}\n{% endnote %}\n{% endif %}\n```\nМетод `a.b` x\n```\n"),
            PageKind::NotMethod(NotMethod::NoMethodNamed)
        );
    }

    #[test]
    fn method_names() {
        assert!(is_method_name("sonet_group.user.add"));
        assert!(is_method_name("tasks.api.scrum.kanban.addStage"));
        assert!(!is_method_name("OnTaskAdd"));
        assert!(!is_method_name("disk.*"));
        assert!(!is_method_name("a..b"));
        assert!(!is_method_name("Scope"));
        assert!(is_event_name("OnTaskAdd"));
        assert!(!is_event_name("Online"));
    }
}
