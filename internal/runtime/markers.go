package runtime

import (
	"context"
	"fmt"
	"strings"

	"cpk/internal/dockerproxy"
	"cpk/internal/engine"

	"golang.org/x/sync/errgroup"
)

// WriteMarker leaves a known value in every place that must keep data: a
// file in /app/data, a table in the app's PostgreSQL and MySQL databases,
// a key in its Redis. ReadMarkers finds them again after a restart,
// restore, move or update.
func (a *App) WriteMarker(ctx context.Context, value string) error {
	var g errgroup.Group // each place is its own server: at once
	for _, m := range a.markerKinds() {
		g.Go(func() error {
			if err := a.marker(ctx, m, value); err != nil {
				return fmt.Errorf("write the %s marker: %w", m, err)
			}
			return nil
		})
	}
	return g.Wait()
}

// ReadMarkers returns, for each place, the marker found ("" when missing).
func (a *App) ReadMarkers(ctx context.Context) (map[string]string, error) {
	kinds := a.markerKinds()
	found := make([]string, len(kinds))
	var g errgroup.Group
	for i, m := range kinds {
		g.Go(func() error {
			v, err := a.readMarker(ctx, m)
			if err != nil {
				return fmt.Errorf("read the %s marker: %w", m, err)
			}
			found[i] = v
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for i, m := range kinds {
		out[m] = found[i]
	}
	return out, nil
}

func (a *App) markerKinds() []string {
	var out []string
	for _, n := range []string{"localstorage", "mysql", "postgresql", "redis"} {
		if a.setUp[n] && (n != "mysql" || !multipleDatabases(a)) {
			out = append(out, n)
		}
	}
	return out
}

const markerFile = "/app/data/.cpk-marker"

func (a *App) marker(ctx context.Context, kind, v string) error {
	switch kind {
	case "localstorage":
		_, err := a.sh(ctx, `printf %s "$1" > `+markerFile, v)
		return err
	case "postgresql":
		_, err := a.pgAsApp(ctx, fmt.Sprintf("CREATE TABLE IF NOT EXISTS cpk_marker (v text);\nDELETE FROM cpk_marker;\nINSERT INTO cpk_marker VALUES (%s);\n", sqlString(v)))
		return err
	case "mysql":
		_, err := a.myAsApp(ctx, fmt.Sprintf("CREATE TABLE IF NOT EXISTS cpk_marker (v text);\nDELETE FROM cpk_marker;\nINSERT INTO cpk_marker VALUES (%s);\n", sqlString(v)))
		return err
	case "redis":
		_, err := redis{}.cli(ctx, a, "SET", "cpk:marker", v)
		return err
	}
	return nil
}

func (a *App) readMarker(ctx context.Context, kind string) (string, error) {
	var out []byte
	var err error
	switch kind {
	case "localstorage":
		out, err = a.sh(ctx, `cat `+markerFile+` 2>/dev/null || true`)
	case "postgresql":
		out, err = a.pgAsApp(ctx, "SELECT v FROM cpk_marker;\n")
	case "mysql":
		out, err = a.myAsApp(ctx, "SELECT v FROM cpk_marker;\n")
	case "redis":
		out, err = redis{}.cli(ctx, a, "GET", "cpk:marker")
	}
	if err != nil && strings.Contains(err.Error(), "cpk_marker") {
		return "", nil // the table is gone
	}
	return strings.TrimSpace(string(out)), err
}

// pgAsApp runs SQL in the app's database as the app's user.
func (a *App) pgAsApp(ctx context.Context, sql string) ([]byte, error) {
	sv, err := postgresql{}.service(ctx, a.box)
	if err != nil {
		return nil, err
	}
	db, user := pgNames(a)
	pw, err := a.creds.secret("postgresql.password")
	if err != nil {
		return nil, err
	}
	return a.box.execIn(ctx, sv.container, engine.ExecSpec{
		Cmd: []string{"psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-U", user, "-d", db, "-f", "-"},
		Env: map[string]string{"PGPASSWORD": pw}, Stdin: strings.NewReader(sql)})
}

// myAsApp runs SQL in the app's database (as the server's root: the
// database is the app's alone).
func (a *App) myAsApp(ctx context.Context, sql string) ([]byte, error) {
	sv, err := mysql{}.service(ctx, a.box)
	if err != nil {
		return nil, err
	}
	return mysql{}.sql(ctx, a.box, sv, myUser(a), sql)
}

// Leftovers lists what is left of an uninstalled app: containers, its
// data volume, databases, users, its redis server.
func (a *App) Leftovers(ctx context.Context) ([]string, error) {
	var out []string
	cs, err := a.box.Engine.ListContainers(ctx, map[string]string{LabelRun: a.box.RunID, "io.cpk.appid": a.ID})
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		out = append(out, "container "+c.Name)
	}
	// The docker add-on's proxy, and what the app created through it.
	made, err := a.box.Engine.ListContainers(ctx, map[string]string{LabelRun: a.box.RunID, dockerproxy.LabelOwner: a.ID})
	if err != nil {
		return nil, err
	}
	for _, c := range made {
		out = append(out, "container "+c.Name+" (the app created it)")
	}
	if _, err := a.box.Engine.InspectContainer(ctx, dockerProxyName(a.box, a)); err == nil {
		out = append(out, "container "+dockerProxyName(a.box, a))
	}
	vols, err := a.box.Engine.ListVolumes(ctx, map[string]string{LabelRun: a.box.RunID})
	if err != nil {
		return nil, err
	}
	for _, v := range vols {
		if strings.HasPrefix(v, a.ID) {
			out = append(out, "volume "+v)
		}
	}
	a.box.mu.Lock()
	_, pg := a.box.services["postgresql"]
	_, my := a.box.services["mysql"]
	_, rd := a.box.services[redisKind(a)]
	a.box.mu.Unlock()
	if pg {
		sv, _ := postgresql{}.service(ctx, a.box)
		db, user := pgNames(a)
		res, err := postgresql{}.psql(ctx, a.box, sv, "", fmt.Sprintf("SELECT 'database ' || datname FROM pg_database WHERE datname = %s UNION ALL SELECT 'role ' || rolname FROM pg_roles WHERE rolname = %s;\n", sqlString(db), sqlString(user)))
		if err != nil {
			return nil, err
		}
		for _, l := range strings.Split(strings.TrimSpace(string(res)), "\n") {
			if l != "" {
				out = append(out, "postgresql "+l)
			}
		}
	}
	if my {
		sv, _ := mysql{}.service(ctx, a.box)
		u := myUser(a)
		res, err := mysql{}.sql(ctx, a.box, sv, "", fmt.Sprintf("SELECT CONCAT('database ', schema_name) FROM information_schema.schemata WHERE schema_name = '%[1]s' OR schema_name LIKE '%[1]s\\_%%' UNION ALL SELECT CONCAT('user ', user) FROM mysql.user WHERE user = '%[1]s';\n", u))
		if err != nil {
			return nil, err
		}
		for _, l := range strings.Split(strings.TrimSpace(string(res)), "\n") {
			if l != "" {
				out = append(out, "mysql "+l)
			}
		}
	}
	if rd {
		out = append(out, "redis server "+redisKind(a))
	}
	mail, err := a.mailLeftovers(ctx)
	return append(out, mail...), err
}
