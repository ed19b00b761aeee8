"""A cluster's database users and their privileges, as Redshift's SQL manages them.

The master user (the cluster's MasterUsername and password, read live from the emulated
cluster) is a superuser. Other users exist through SQL on the endpoint: CREATE USER, ALTER
USER, DROP USER, then GRANT and REVOKE of SELECT, INSERT, UPDATE, DELETE (or ALL) on tables,
or on ALL TABLES IN SCHEMA public (the tables there now), and CREATE on schema public, which
PUBLIC holds by default. A read-only user is one granted SELECT only: a write is refused with
`permission denied for relation <name>` (42501), as Redshift refuses it. A user owns the tables
it creates; DROP, ALTER and TRUNCATE need the owner. (CREATE USER, GRANT, REVOKE in the Redshift
Database Developer Guide.) Users live as long as the emulated cluster.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from .errors import WireError

PUBLIC = "public"
TABLE_PRIVILEGES = ("select", "insert", "update", "delete")
SYSTEM_PREFIXES = ("pg_", "stl_", "stv_", "svv_", "svl_", "sys_", "information_schema")
NAME = r'(?:"[^"]+"|[A-Za-z_][\w$]*)'
CREATE_USER = re.compile(
    rf"create\s+user\s+(?P<name>{NAME})\s+(?:with\s+)?password\s+"
    r"(?P<password>'(?:[^']|'')*'|disable)(?P<options>.*)",
    re.IGNORECASE | re.DOTALL,
)
ALTER_USER = re.compile(rf"alter\s+user\s+(?P<name>{NAME})\s+(?P<rest>.*)", re.I | re.S)
DROP_USER = re.compile(r"drop\s+user\s+(?:if\s+exists\s+)?(?P<names>.+)", re.I | re.S)
GRANT = re.compile(
    r"(?P<verb>grant|revoke)\s+(?:grant\s+option\s+for\s+)?(?P<privileges>.+?)\s+on\s+"
    r"(?P<object>.+?)\s+(?:to|from)\s+(?P<grantees>.+?)"
    r"(?:\s+with\s+grant\s+option|\s+cascade|\s+restrict)?\s*$",
    re.I | re.S,
)
PASSWORD_OPTION = re.compile(r"password\s+('(?:[^']|'')*'|disable)", re.I)
MD5_HASH = re.compile(r"md5[0-9a-f]{32}")


def md5_of(password: str, user: str) -> str:
    """What Redshift keeps of a password: md5 of the password and the user name, in hex."""
    return hashlib.md5((password + user).encode()).hexdigest()


@dataclass
class User:
    """A database user: the password in the forms authentication needs."""

    name: str
    md5: str | None
    password: str | None = None
    superuser: bool = False


@dataclass
class _Needs:
    """What a statement needs of the tables it names."""

    privileges: list[tuple[str, str]] = field(default_factory=list)  # (privilege, table)
    creates: str | None = None
    owns: list[str] = field(default_factory=list)


def _name(text: str) -> str:
    text = text.strip()
    if text.startswith('"') and text.endswith('"'):
        return text[1:-1]
    return text.lower().removeprefix("public.")


def _names(text: str) -> list[str]:
    return [_name(part) for part in text.split(",") if part.strip()]


def _unquote(literal: str) -> str:
    return literal[1:-1].replace("''", "'")


def check_password(password: str) -> None:
    """Redshift's rules for a clear-text password (CREATE USER): 8 to 64 characters, an
    uppercase letter, a lowercase letter and a digit, no quotes, backslash, slash, @ or space."""
    valid = (
        8 <= len(password) <= 64
        and re.search(r"[A-Z]", password)
        and re.search(r"[a-z]", password)
        and re.search(r"\d", password)
        and not re.search(r"[\s'\"\\/@]", password)
    )
    if not valid:
        raise WireError(
            "22023",
            "Password must be 8 to 64 characters with an uppercase letter, a lowercase letter "
            "and a number, and no ' \" \\ / @ or space",
        )


def _table_name(table: exp.Table) -> str:
    return table.name if table.this and table.this.quoted else table.name.lower()


def _is_system(table: exp.Table) -> bool:
    schema = table.db.lower()
    return schema in ("pg_catalog", "information_schema") or table.name.lower().startswith(
        SYSTEM_PREFIXES
    )


def _unload_query(sql: str) -> str | None:
    match = re.match(r"\s*unload\s*\(\s*'((?:[^']|'')*)'", sql, re.I | re.S)
    return _unquote(f"'{match[1]}'") if match else None


def needs(sql: str) -> _Needs:
    """The privileges a statement needs, read from its Redshift text (none if it does not parse:
    the translation then says what is wrong)."""
    if (query := _unload_query(sql)) is not None:
        return needs(query)
    try:
        tree = sqlglot.parse_one(sql, read="redshift")
    except SqlglotError:
        return _Needs()
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    tables = [t for t in tree.find_all(exp.Table) if not _is_system(t)]
    tables = [t for t in tables if t.db or _table_name(t) not in ctes]
    wanted = _Needs()
    target: exp.Table | None = None
    if isinstance(tree, exp.Insert | exp.Copy | exp.Create):
        target = tree.this.find(exp.Table) if tree.this is not None else None
    elif isinstance(tree, exp.Update | exp.Delete | exp.Merge):
        target = tree.this if isinstance(tree.this, exp.Table) else None
    if isinstance(tree, exp.Drop | exp.Alter | exp.TruncateTable):
        wanted.owns = [_table_name(t) for t in tables]
        return wanted
    if target is not None:
        name = _table_name(target)
        if isinstance(tree, exp.Create):
            wanted.creates = name
            if tree.args.get("replace"):
                wanted.owns.append(name)
        elif isinstance(tree, exp.Merge):
            wanted.privileges += [("update", name), ("insert", name)]
        else:
            kind = "update" if isinstance(tree, exp.Update) else "delete"
            wanted.privileges.append(
                ("insert" if isinstance(tree, exp.Insert | exp.Copy) else kind, name)
            )
    wanted.privileges += [("select", _table_name(t)) for t in tables if t is not target]
    return wanted


class Users:
    """One cluster's users, table owners and grants (thread-safe: sessions share it)."""

    def __init__(self, master: Callable[[], tuple[str, str]]) -> None:
        """`master`: the cluster's current master user name and password."""
        self._master = master
        self._users: dict[str, User] = {}
        self._owners: dict[tuple[str, str], str] = {}
        self._grants: dict[tuple[str, str], set[tuple[str, str]]] = {}  # -> (grantee, priv)
        self._may_create = {PUBLIC}
        self._lock = threading.Lock()

    def find(self, name: str) -> User | None:
        master, password = self._master()
        if name == master:
            return User(master, md5_of(password, master), password, superuser=True)
        with self._lock:
            return self._users.get(name)

    # --- what a session may do --------------------------------------------------------

    def check(self, user: User, database: str, sql: str, tables: Collection[str]) -> None:
        """Raise 42501 unless `user` may run `sql`; `tables`: those the database has now."""
        if user.superuser:
            return
        wanted = needs(sql)
        for name in wanted.owns:
            if name in tables and self._owner(database, name) != user.name:
                raise WireError("42501", f"must be owner of relation {name}")
        if wanted.creates and wanted.creates not in tables and not self._holds_create(user):
            raise WireError("42501", f"permission denied for schema {PUBLIC}")
        for privilege, name in wanted.privileges:
            if name in tables and not self._holds(user, database, name, privilege):
                raise WireError("42501", f"permission denied for relation {name}")

    def ran(self, user: User, database: str, sql: str, tables_before: Collection[str]) -> None:
        """Keep who owns what once a statement has succeeded."""
        verb = (sql.split(None, 1) or [""])[0].lower()
        if verb != "drop" and not (verb == "create" and not user.superuser):
            return
        wanted = needs(sql)
        with self._lock:
            if verb == "create" and wanted.creates and wanted.creates not in tables_before:
                self._owners[(database, wanted.creates)] = user.name
            if verb == "drop":
                for name in wanted.owns:
                    self._owners.pop((database, name), None)
                    self._grants.pop((database, name), None)

    def _owner(self, database: str, table: str) -> str:
        with self._lock:
            return self._owners.get((database, table)) or self._master()[0]

    def _holds(self, user: User, database: str, table: str, privilege: str) -> bool:
        if self._owner(database, table) == user.name:
            return True
        with self._lock:
            held = self._grants.get((database, table), set())
        return (user.name, privilege) in held or (PUBLIC, privilege) in held

    def _holds_create(self, user: User) -> bool:
        with self._lock:
            return bool(self._may_create & {user.name, PUBLIC})

    # --- CREATE/ALTER/DROP USER, GRANT, REVOKE ----------------------------------------

    @staticmethod
    def manages(sql: str) -> bool:
        """Whether `sql` is one of the statements this directory runs itself."""
        return bool(
            CREATE_USER.match(sql.strip())
            or ALTER_USER.match(sql.strip())
            or DROP_USER.match(sql.strip())
            or GRANT.match(sql.strip())
        )

    def run(self, user: User, database: str, sql: str, tables: Collection[str]) -> str:
        """Run a user or privilege statement; its command tag."""
        sql = sql.strip()
        if match := CREATE_USER.match(sql):
            self._superuser_only(user, "create users")
            self._create(match)
            return "CREATE USER"
        if match := ALTER_USER.match(sql):
            self._alter(user, _name(match["name"]), match["rest"])
            return "ALTER USER"
        if match := DROP_USER.match(sql):
            self._superuser_only(user, "drop users")
            with self._lock:
                for name in _names(match["names"]):
                    self._users.pop(name, None)
            return "DROP USER"
        match = GRANT.match(sql)
        assert match is not None
        self._grant(user, database, match, tables)
        return match["verb"].upper()

    def _superuser_only(self, user: User, what: str) -> None:
        if not user.superuser:
            raise WireError("42501", f"permission denied: must be superuser to {what}")

    @staticmethod
    def _password(name: str, literal: str) -> tuple[str | None, str | None]:
        """(md5, clear text) of a PASSWORD clause; (None, None) for DISABLE."""
        if literal.lower() == "disable":
            return None, None
        password = _unquote(literal)
        if MD5_HASH.fullmatch(password):
            return password[3:], None
        check_password(password)
        return md5_of(password, name), password

    def _create(self, match: re.Match[str]) -> None:
        name = _name(match["name"])
        md5, password = self._password(name, match["password"])
        superuser = bool(re.search(r"\bcreateuser\b", match["options"], re.I))
        with self._lock:
            if name in self._users or name == self._master()[0]:
                raise WireError("42710", f'user "{name}" already exists')
            self._users[name] = User(name, md5, password, superuser)

    def _alter(self, actor: User, name: str, rest: str) -> None:
        if not actor.superuser and actor.name != name:
            raise WireError("42501", "permission denied: must be superuser to alter other users")
        with self._lock:
            user = self._users.get(name)
        if user is None:
            raise WireError("42704", f'user "{name}" does not exist')
        if match := PASSWORD_OPTION.search(rest):
            user.md5, user.password = self._password(name, match[1])
        if actor.superuser and re.search(r"\bnocreateuser\b", rest, re.I):
            user.superuser = False
        elif actor.superuser and re.search(r"\bcreateuser\b", rest, re.I):
            user.superuser = True

    def _grant(
        self, actor: User, database: str, match: re.Match[str], tables: Collection[str]
    ) -> None:
        grantees = [PUBLIC if g.strip().lower() == PUBLIC else _name(g) for g in _names(match[4])]
        for grantee in grantees:
            if grantee != PUBLIC and self.find(grantee) is None:
                raise WireError("42704", f'user "{grantee}" does not exist')
        words = {w.strip().lower() for w in match["privileges"].split(",")}
        target = match["object"].strip()
        revoke = match["verb"].lower() == "revoke"
        if re.fullmatch(r"schema\s+public", target, re.I) and words <= {"create", "usage"}:
            self._superuser_only(actor, "grant on schema public")
            with self._lock:
                if "create" in words:
                    (self._may_create.difference_update if revoke else self._may_create.update)(
                        grantees
                    )
            return
        if words & {"all", "all privileges"}:
            privileges: Collection[str] = TABLE_PRIVILEGES
        elif words <= set(TABLE_PRIVILEGES):
            privileges = words
        else:
            raise WireError("0A000", f"privileges {sorted(words)} are not supported here")
        if all_tables := re.fullmatch(r"all\s+tables\s+in\s+schema\s+public", target, re.I):
            names = sorted(tables)
        else:
            names = _names(re.sub(r"^table\s+", "", target, flags=re.I))
        for name in names:
            if not all_tables and name not in tables:
                raise WireError("42P01", f'relation "{name}" does not exist')
            if not actor.superuser and self._owner(database, name) != actor.name:
                raise WireError("42501", f"permission denied for relation {name}")
        with self._lock:
            for name in names:
                held = self._grants.setdefault((database, name), set())
                pairs = {(g, p) for g in grantees for p in privileges}
                (held.difference_update if revoke else held.update)(pairs)
