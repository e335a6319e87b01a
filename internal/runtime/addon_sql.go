package runtime

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"

	"cpk/internal/engine"
)

// --- postgresql (§3.3: host postgresql, port 5432, database db<app id
// without dashes>, user user<app id without dashes>) ---

type postgresql struct{}

func pgNames(a *App) (db, user string) {
	id := strings.ReplaceAll(a.ID, "-", "")
	return "db" + id, "user" + id
}

func (postgresql) service(ctx context.Context, b *Box) (*service, error) {
	return b.service(ctx, serviceSpec{kind: "postgresql", aliases: []string{"postgresql"},
		cmd:   []string{"/bin/sh", "-c", `exec gosu postgres /usr/local/lib/postgresql-bin/postgres -c config_file=$(ls -d /etc/postgresql/*/main)/postgresql.conf`},
		ready: []string{"pg_isready", "-q", "-h", "127.0.0.1"}})
}

// psql runs SQL (on stdin, so that passwords never reach a command line)
// as the postgres superuser.
func (p postgresql) psql(ctx context.Context, b *Box, sv *service, db, sql string) ([]byte, error) {
	args := []string{"psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-f", "-"}
	if db != "" {
		args = append(args, "-d", db)
	}
	return b.execIn(ctx, sv.container, engine.ExecSpec{Cmd: args, User: "postgres", Stdin: strings.NewReader(sql)})
}

func (p postgresql) Setup(ctx context.Context, a *App, opts map[string]any) (map[string]string, error) {
	sv, err := p.service(ctx, a.box)
	if err != nil {
		return nil, err
	}
	db, user := pgNames(a)
	pw, err := a.creds.secret("postgresql.password")
	if err != nil {
		return nil, err
	}
	locale := ""
	if l, ok := opts["locale"].(string); ok && l != "" {
		locale = fmt.Sprintf(" TEMPLATE template0 LC_COLLATE %s LC_CTYPE %s", sqlString(l), sqlString(l))
	}
	create := fmt.Sprintf("CREATE DATABASE %s OWNER %s%s", sqlIdent(db), sqlIdent(user), locale)
	sql := fmt.Sprintf(`DO $$ BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = %[2]s) THEN ALTER ROLE %[1]s WITH LOGIN PASSWORD %[3]s;
  ELSE CREATE ROLE %[1]s WITH LOGIN PASSWORD %[3]s; END IF;
END $$;
SELECT %[4]s WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = %[5]s)\gexec
`, sqlIdent(user), sqlString(user), sqlString(pw), sqlString(create), sqlString(db))
	if _, err := p.psql(ctx, a.box, sv, "", sql); err != nil {
		return nil, err
	}
	return map[string]string{
		"CLOUDRON_POSTGRESQL_URL":      fmt.Sprintf("postgres://%s:%s@postgresql/%s", user, pw, db),
		"CLOUDRON_POSTGRESQL_USERNAME": user,
		"CLOUDRON_POSTGRESQL_PASSWORD": pw,
		"CLOUDRON_POSTGRESQL_HOST":     "postgresql",
		"CLOUDRON_POSTGRESQL_PORT":     "5432",
		"CLOUDRON_POSTGRESQL_DATABASE": db,
	}, nil
}

func (p postgresql) Teardown(ctx context.Context, a *App) error {
	sv, err := p.service(ctx, a.box)
	if err != nil {
		return err
	}
	db, user := pgNames(a)
	_, err = p.psql(ctx, a.box, sv, "", fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE);\nDROP ROLE IF EXISTS %s;\n", sqlIdent(db), sqlIdent(user)))
	return err
}

func (postgresql) DumpFile() string { return "postgresqldump" }

func (p postgresql) dump(ctx context.Context, a *App) ([]byte, error) {
	sv, err := p.service(ctx, a.box)
	if err != nil {
		return nil, err
	}
	db, _ := pgNames(a)
	out, err := a.box.execIn(ctx, sv.container, engine.ExecSpec{Cmd: []string{"pg_dump", "--no-owner", "--no-privileges", "-d", db}, User: "postgres"})
	if err != nil {
		return nil, fmt.Errorf("pg_dump: %w", err)
	}
	return out, nil
}

func (p postgresql) Dump(ctx context.Context, a *App, path string) error {
	out, err := p.dump(ctx, a)
	if err != nil {
		return err
	}
	return os.WriteFile(path, out, 0o600)
}

// Load replays a dump as the app's own user, so that what it creates
// belongs to the app.
func (p postgresql) Load(ctx context.Context, a *App, path string) error {
	sv, err := p.service(ctx, a.box)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	db, user := pgNames(a)
	pw, err := a.creds.secret("postgresql.password")
	if err != nil {
		return err
	}
	_, err = a.box.execIn(ctx, sv.container, engine.ExecSpec{
		Cmd: []string{"psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-U", user, "-d", db, "-f", "-"},
		Env: map[string]string{"PGPASSWORD": pw}, Stdin: bytes.NewReader(data)})
	if err != nil {
		return fmt.Errorf("restore the postgresql dump: %w", err)
	}
	return nil
}

func (p postgresql) Digest(ctx context.Context, a *App) (string, error) {
	out, err := p.dump(ctx, a)
	if err != nil {
		return "", err
	}
	return digestLines(out, func(l string) bool {
		// pg_dump ≥ 15.14 brackets its output with a random \restrict key.
		return strings.HasPrefix(l, `\restrict `) || strings.HasPrefix(l, `\unrestrict `)
	}), nil
}

// digestLines hashes text without the lines skip rejects.
func digestLines(out []byte, skip func(string) bool) string {
	h := sha256.New()
	for _, l := range strings.Split(string(out), "\n") {
		if skip != nil && skip(l) {
			continue
		}
		h.Write([]byte(l + "\n"))
	}
	return hex.EncodeToString(h.Sum(nil))
}

func sqlIdent(s string) string  { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
func sqlString(s string) string { return `'` + strings.ReplaceAll(s, `'`, `''`) + `'` }

// --- mysql (§3.3: MariaDB here; host mysql, port 3306, user = database =
// the first 16 hex of md5(app id); multipleDatabases gives a prefix) ---

type mysql struct{}

func myUser(a *App) string {
	sum := md5.Sum([]byte(a.ID))
	return hex.EncodeToString(sum[:])[:16]
}

func multipleDatabases(a *App) bool {
	v, _ := a.Manifest.Addons["mysql"]["multipleDatabases"].(bool)
	return v
}

func (mysql) service(ctx context.Context, b *Box) (*service, error) {
	return b.service(ctx, serviceSpec{kind: "mysql", aliases: []string{"mysql"},
		cmd: []string{"mariadbd", "--user=mysql", "--bind-address=0.0.0.0", "--port=3306", "--skip-name-resolve",
			"--character-set-server=utf8mb4", "--collation-server=utf8mb4_unicode_ci", "--innodb-flush-log-at-trx-commit=0"},
		ready: []string{"mariadb-admin", "--silent", "ping"}})
}

func (m mysql) sql(ctx context.Context, b *Box, sv *service, db, sql string) ([]byte, error) {
	args := []string{"mariadb", "--batch", "--skip-column-names"}
	if db != "" {
		args = append(args, db)
	}
	return b.execIn(ctx, sv.container, engine.ExecSpec{Cmd: args, Stdin: strings.NewReader(sql)})
}

func (m mysql) Setup(ctx context.Context, a *App, _ map[string]any) (map[string]string, error) {
	sv, err := m.service(ctx, a.box)
	if err != nil {
		return nil, err
	}
	user := myUser(a)
	pw, err := a.creds.secret("mysql.password")
	if err != nil {
		return nil, err
	}
	sql := fmt.Sprintf("CREATE USER IF NOT EXISTS %[1]s@'%%' IDENTIFIED BY %[2]s;\nALTER USER %[1]s@'%%' IDENTIFIED BY %[2]s;\n", sqlString(user), sqlString(pw))
	if multipleDatabases(a) {
		sql += fmt.Sprintf("GRANT ALL PRIVILEGES ON `%s\\_%%`.* TO %s@'%%';\n", user, sqlString(user))
	} else {
		sql += fmt.Sprintf("CREATE DATABASE IF NOT EXISTS `%[1]s` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;\nGRANT ALL PRIVILEGES ON `%[1]s`.* TO %[2]s@'%%';\n", user, sqlString(user))
	}
	if _, err := m.sql(ctx, a.box, sv, "", sql); err != nil {
		return nil, err
	}
	env := map[string]string{
		"CLOUDRON_MYSQL_USERNAME": user,
		"CLOUDRON_MYSQL_PASSWORD": pw,
		"CLOUDRON_MYSQL_HOST":     "mysql",
		"CLOUDRON_MYSQL_PORT":     "3306",
	}
	if multipleDatabases(a) {
		env["CLOUDRON_MYSQL_DATABASE_PREFIX"] = user + "_"
	} else {
		env["CLOUDRON_MYSQL_URL"] = fmt.Sprintf("mysql://%s:%s@mysql/%s", user, pw, user)
		env["CLOUDRON_MYSQL_DATABASE"] = user
	}
	return env, nil
}

// databases lists the app's databases: its one database, or those with its prefix.
func (m mysql) databases(ctx context.Context, a *App, sv *service) ([]string, error) {
	user := myUser(a)
	if !multipleDatabases(a) {
		return []string{user}, nil
	}
	out, err := m.sql(ctx, a.box, sv, "", fmt.Sprintf("SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE '%s\\_%%' ORDER BY schema_name;\n", user))
	if err != nil {
		return nil, err
	}
	return strings.Fields(string(out)), nil
}

func (m mysql) Teardown(ctx context.Context, a *App) error {
	sv, err := m.service(ctx, a.box)
	if err != nil {
		return err
	}
	dbs, err := m.databases(ctx, a, sv)
	if err != nil {
		return err
	}
	var sql strings.Builder
	for _, db := range dbs {
		fmt.Fprintf(&sql, "DROP DATABASE IF EXISTS `%s`;\n", db)
	}
	fmt.Fprintf(&sql, "DROP USER IF EXISTS %s@'%%';\n", sqlString(myUser(a)))
	_, err = m.sql(ctx, a.box, sv, "", sql.String())
	return err
}

func (mysql) DumpFile() string { return "mysqldump" }

// dumpMarker starts each database's part of a multipleDatabases dump,
// naming it without the app's prefix (a restored app has another).
const dumpMarker = "-- cpk-database: "

func (m mysql) dump(ctx context.Context, a *App) ([]byte, error) {
	sv, err := m.service(ctx, a.box)
	if err != nil {
		return nil, err
	}
	dbs, err := m.databases(ctx, a, sv)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	for _, db := range dbs {
		b, err := a.box.execIn(ctx, sv.container, engine.ExecSpec{Cmd: []string{"mariadb-dump", "--single-transaction", "--routines", "--triggers", "--skip-dump-date", "--skip-comments", db}})
		if err != nil {
			return nil, fmt.Errorf("mariadb-dump: %w", err)
		}
		if multipleDatabases(a) {
			fmt.Fprintf(&out, "%s%s\n", dumpMarker, strings.TrimPrefix(db, myUser(a)+"_"))
		}
		out.Write(b)
	}
	return out.Bytes(), nil
}

func (m mysql) Dump(ctx context.Context, a *App, path string) error {
	out, err := m.dump(ctx, a)
	if err != nil {
		return err
	}
	return os.WriteFile(path, out, 0o600)
}

func (m mysql) Load(ctx context.Context, a *App, path string) error {
	sv, err := m.service(ctx, a.box)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	user := myUser(a)
	if !multipleDatabases(a) {
		_, err := m.sql(ctx, a.box, sv, user, string(data))
		return err
	}
	for _, part := range strings.Split(string(data), dumpMarker)[1:] {
		name, body, _ := strings.Cut(part, "\n")
		db := user + "_" + name
		if _, err := m.sql(ctx, a.box, sv, "", fmt.Sprintf("CREATE DATABASE IF NOT EXISTS `%s` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;\n", db)); err != nil {
			return err
		}
		if _, err := m.sql(ctx, a.box, sv, db, body); err != nil {
			return err
		}
	}
	return nil
}

func (m mysql) Digest(ctx context.Context, a *App) (string, error) {
	out, err := m.dump(ctx, a)
	if err != nil {
		return "", err
	}
	return digestLines(out, nil), nil
}
