package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"cpk/internal/cpk"
	"cpk/internal/testenv"
)

// PostgresEnv names the DSN of a PostgreSQL server for the conformance
// tests (CI starts one); each test works in a schema of its own.
const PostgresEnv = "CPK_TEST_POSTGRES_DSN"

// backend opens fresh stores of one kind; every call to open gives a new
// handle on the same database (like another process would).
type backend struct {
	name string
	dsn  string
}

// backends returns SQLite always, and PostgreSQL when a server is named.
func backends(t *testing.T) []backend {
	t.Helper()
	bs := []backend{{"sqlite", filepath.Join(t.TempDir(), "results.db")}}
	if dsn := os.Getenv(PostgresEnv); dsn != "" {
		bs = append(bs, backend{"postgres", postgresSchema(t, dsn)})
	}
	return bs
}

// forEach runs the test against every backend; without a server, the
// PostgreSQL part skips with a reason (and fails under CPK_REQUIRE_ENGINE=1).
func forEach(t *testing.T, test func(t *testing.T, b backend)) {
	bs := backends(t)
	for _, b := range bs {
		t.Run(b.name, func(t *testing.T) { test(t, b) })
	}
	if len(bs) == 1 {
		t.Run("postgres", func(t *testing.T) {
			testenv.Unavailable(t, "no PostgreSQL server: set "+PostgresEnv+" (e.g. postgres://cpk:cpk@127.0.0.1:5432/cpk_test); .ci/run starts one")
		})
	}
}

// postgresSchema creates a schema of the test's own and returns a DSN
// whose search_path is it; the schema is dropped afterwards.
func postgresSchema(t *testing.T, dsn string) string {
	t.Helper()
	b := make([]byte, 6)
	rand.Read(b)
	schema := "cpk_test_" + hex.EncodeToString(b)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("%s: %v", PostgresEnv, err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", dsn)
		if err == nil {
			db.Exec("DROP SCHEMA " + schema + " CASCADE")
			db.Close()
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("%s: %v", PostgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func open(t *testing.T, b backend) *Store {
	t.Helper()
	s, err := Open(context.Background(), b.dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 123456000, time.UTC)

func sample(app string, kind cpk.RunKind, at time.Time, outcome cpk.Outcome) cpk.Run {
	return cpk.Run{App: app, Kind: kind, Hash: "h-" + app, Started: at, Finished: at.Add(1500 * time.Millisecond), Outcome: outcome}
}

func TestRoundTrip(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		s := open(t, b)
		ctx := context.Background()
		in := cpk.Run{
			App: "grist", Kind: cpk.KindTest, Hash: "abc123",
			Started: t0, Finished: t0.Add(90*time.Second + 250*time.Microsecond), Outcome: cpk.OutcomeFailed,
			Steps: []cpk.Step{
				{Name: "install", Outcome: cpk.OutcomePassed, Duration: 40 * time.Second},
				{Name: "backup", Outcome: cpk.OutcomePassed, Duration: 3 * time.Second, Message: "1.2 MB"},
				{Name: "restore", Outcome: cpk.OutcomeFailed, Duration: 5 * time.Second, Message: "files differ: <b>&'\"\n second line"},
			},
			Figures: map[string]float64{"seconds": 90.25, "imageBytes": 312e6, "zero": 0},
			Log:     ".cpk/test/grist/1.log",
		}
		if err := s.Record(ctx, in); err != nil {
			t.Fatal(err)
		}
		runs, err := s.Runs(ctx, cpk.RunQuery{})
		if err != nil || len(runs) != 1 {
			t.Fatalf("runs: %v %v", runs, err)
		}
		got := runs[0]
		if got.ID == 0 {
			t.Error("no id")
		}
		in.ID = got.ID
		if !reflect.DeepEqual(got, in) {
			t.Errorf("read back\n%+v\nwant\n%+v", got, in)
		}
		one, err := s.Run(ctx, got.ID)
		if err != nil || !reflect.DeepEqual(one, in) {
			t.Errorf("Run(%d) = %+v, %v", got.ID, one, err)
		}
		if _, err := s.Run(ctx, got.ID+1000); !errors.Is(err, cpk.ErrRunNotFound) {
			t.Errorf("unknown id: %v", err)
		}
		// A run without steps, figures or log.
		bare := sample("jenkins", cpk.KindLint, t0.Add(time.Hour), cpk.OutcomePassed)
		if err := s.Record(ctx, bare); err != nil {
			t.Fatal(err)
		}
		runs, _ = s.Runs(ctx, cpk.RunQuery{App: "jenkins"})
		if len(runs) != 1 || runs[0].Steps != nil || runs[0].Figures != nil || runs[0].Log != "" {
			t.Errorf("bare run: %+v", runs)
		}
	})
}

func TestQueries(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		s := open(t, b)
		ctx := context.Background()
		var want []cpk.Run
		for i, app := range []string{"a", "b", "a", "c", "a"} {
			kind := cpk.RunKinds[i%len(cpk.RunKinds)]
			r := sample(app, kind, t0.Add(time.Duration(i)*time.Hour), cpk.OutcomePassed)
			if err := s.Record(ctx, r); err != nil {
				t.Fatal(err)
			}
			want = append(want, r)
		}
		// Two runs finishing at the same instant come newest id first.
		same := sample("d", cpk.KindLint, t0, cpk.OutcomePassed)
		same.Finished = want[4].Finished
		s.Record(ctx, same)
		s.Record(ctx, same)
		ids := func(runs []cpk.Run) []string {
			var out []string
			for _, r := range runs {
				out = append(out, r.App+"/"+string(r.Kind))
			}
			return out
		}
		all, err := s.Runs(ctx, cpk.RunQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 7 || all[0].ID < all[1].ID || all[0].App != "d" || all[2].App != "a" || all[6].App != "a" {
			t.Errorf("order: %v", ids(all))
		}
		for i := 1; i < len(all); i++ {
			if all[i].Finished.After(all[i-1].Finished) {
				t.Errorf("not newest first at %d: %v", i, ids(all))
			}
		}
		for _, c := range []struct {
			q    cpk.RunQuery
			want int
		}{
			{cpk.RunQuery{App: "a"}, 3},
			{cpk.RunQuery{App: "a", Kind: cpk.KindLint}, 2},
			{cpk.RunQuery{Kind: cpk.KindBuild}, 1},
			{cpk.RunQuery{Hash: "h-b"}, 1},
			{cpk.RunQuery{Since: t0.Add(2 * time.Hour)}, 5},
			{cpk.RunQuery{Limit: 2}, 2},
			{cpk.RunQuery{App: "nobody"}, 0},
		} {
			got, err := s.Runs(ctx, c.q)
			if err != nil || len(got) != c.want {
				t.Errorf("%+v: %d runs (%v), want %d", c.q, len(got), err, c.want)
			}
		}
		if n, err := s.Count(ctx); err != nil || n != 7 {
			t.Errorf("count %d %v", n, err)
		}
	})
}

func TestInvalidRunsAreRefused(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		s := open(t, b)
		ctx := context.Background()
		good := sample("a", cpk.KindLint, t0, cpk.OutcomePassed)
		for name, mutate := range map[string]func(*cpk.Run){
			"no app":         func(r *cpk.Run) { r.App = " " },
			"unknown kind":   func(r *cpk.Run) { r.Kind = "deploy" },
			"no outcome":     func(r *cpk.Run) { r.Outcome = "" },
			"no times":       func(r *cpk.Run) { r.Started = time.Time{} },
			"backwards":      func(r *cpk.Run) { r.Finished = r.Started.Add(-time.Second) },
			"unnamed step":   func(r *cpk.Run) { r.Steps = []cpk.Step{{Outcome: cpk.OutcomePassed}} },
			"NaN figure":     func(r *cpk.Run) { r.Figures = map[string]float64{"x": math.NaN()} },
			"infinite value": func(r *cpk.Run) { r.Figures = map[string]float64{"x": math.Inf(1)} },
		} {
			r := good
			mutate(&r)
			if err := s.Record(ctx, r); err == nil {
				t.Errorf("%s: recorded", name)
			}
		}
		if n, _ := s.Count(ctx); n != 0 {
			t.Errorf("%d runs recorded", n)
		}
	})
}

func TestMigrations(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		// Eight processes opening a new store at once migrate it once.
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := Open(ctx, b.dsn)
				if err == nil {
					err = s.Close()
				}
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		s := open(t, b)
		var n, v int
		if err := s.db.QueryRow("SELECT COUNT(*), MAX(version) FROM schema_migrations").Scan(&n, &v); err != nil || n != SchemaVersion() || v != SchemaVersion() {
			t.Fatalf("schema_migrations: %d rows, version %d, %v", n, v, err)
		}
		if err := s.Record(ctx, sample("a", cpk.KindLint, t0, cpk.OutcomePassed)); err != nil {
			t.Fatal(err)
		}
		// A store migrated by a newer cpk is refused with advice.
		if _, err := s.db.Exec(s.q("INSERT INTO schema_migrations (version, name, applied) VALUES (?, ?, ?)"), 99, "future", 0); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(ctx, b.dsn); err == nil {
			t.Error("a newer schema was accepted")
		} else if want := "newer than this cpk knows"; !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	})
}

func TestStatements(t *testing.T) {
	got := statements("-- a comment\nCREATE TABLE x (\n  a INT\n);\n\nCREATE INDEX i ON x (a);\n-- end\n")
	if len(got) != 2 || got[0] != "CREATE TABLE x (\n  a INT\n);" || got[1] != "CREATE INDEX i ON x (a);" {
		t.Errorf("%q", got)
	}
	if SchemaVersion() < 1 {
		t.Error("no migrations embedded")
	}
}

// TestConcurrentWriters: 8 writers × 500 records each, every writer with a
// store handle of its own (as parallel builds in separate processes have),
// and no record is lost or duplicated.
func TestConcurrentWriters(t *testing.T) {
	const writers, each = 8, 500
	forEach(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		open(t, b) // migrated before the race starts, like a store in use
		start := time.Now()
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := Open(ctx, b.dsn)
				if err != nil {
					errs <- err
					return
				}
				defer s.Close()
				for i := range each {
					r := sample(fmt.Sprintf("w%d", w), cpk.KindBuild, t0.Add(time.Duration(i)*time.Second), cpk.OutcomePassed)
					r.Figures = map[string]float64{"seq": float64(i)}
					r.Steps = []cpk.Step{{Name: "build", Outcome: cpk.OutcomePassed, Duration: time.Second}}
					if err := s.Record(ctx, r); err != nil {
						errs <- fmt.Errorf("writer %d record %d: %w", w, i, err)
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		took := time.Since(start)
		verifyAll(t, open(t, b), writers, each)
		t.Logf("%s: %d writers × %d records in %s (%.0f records/s)", b.name, writers, each, took.Round(time.Millisecond), writers*each/took.Seconds())
	})
}

// verifyAll checks that every writer's every record is there exactly once,
// with its step.
func verifyAll(t *testing.T, s *Store, writers, each int) {
	t.Helper()
	runs, err := s.Runs(context.Background(), cpk.RunQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != writers*each {
		t.Errorf("%d records, want %d", len(runs), writers*each)
	}
	seen := map[string]bool{}
	for _, r := range runs {
		key := r.App + "/" + strconv.Itoa(int(r.Figures["seq"]))
		if seen[key] {
			t.Errorf("duplicate %s", key)
		}
		seen[key] = true
		if len(r.Steps) != 1 {
			t.Errorf("%s has %d steps", key, len(r.Steps))
		}
	}
	for w := range writers {
		for i := range each {
			if key := fmt.Sprintf("w%d/%d", w, i); !seen[key] {
				t.Errorf("lost %s", key)
			}
		}
	}
}

// TestConcurrentProcesses: four cpk processes writing one SQLite file at
// once (this test binary, run again as a writer).
func TestConcurrentProcesses(t *testing.T) {
	if os.Getenv("CPK_STORE_WRITER") != "" {
		return // the child's own run of this test
	}
	const procs, each = 4, 250
	path := filepath.Join(t.TempDir(), "results.db")
	s := open(t, backend{"sqlite", path})
	var cmds []*exec.Cmd
	outs := make([]*bytes.Buffer, procs)
	for p := range procs {
		cmd := exec.Command(os.Args[0], "-test.run=^TestWriterProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), "CPK_STORE_WRITER="+strconv.Itoa(p), "CPK_STORE_PATH="+path, "CPK_STORE_EACH="+strconv.Itoa(each))
		outs[p] = &bytes.Buffer{}
		cmd.Stdout, cmd.Stderr = outs[p], outs[p]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	for p, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("writer process %d: %v\n%s", p, err, outs[p])
		}
	}
	verifyAll(t, s, procs, each)
}

// TestWriterProcess is the child of TestConcurrentProcesses.
func TestWriterProcess(t *testing.T) {
	w := os.Getenv("CPK_STORE_WRITER")
	if w == "" {
		t.Skip("run by TestConcurrentProcesses")
	}
	each, _ := strconv.Atoi(os.Getenv("CPK_STORE_EACH"))
	s, err := Open(context.Background(), os.Getenv("CPK_STORE_PATH"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range each {
		r := sample("w"+w, cpk.KindTest, t0.Add(time.Duration(i)*time.Second), cpk.OutcomePassed)
		r.Figures = map[string]float64{"seq": float64(i)}
		r.Steps = []cpk.Step{{Name: "install", Outcome: cpk.OutcomePassed}}
		if err := s.Record(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := Open(ctx, ""); err == nil {
		t.Error("empty DSN accepted")
	}
	if _, err := Open(ctx, filepath.Join(t.TempDir(), "x?mode=ro")); err == nil {
		t.Error("a file name with ? accepted")
	}
	// A server that is not there: the error names it without the password
	// and says what to check.
	_, err := Open(ctx, "postgres://cpk:secret@127.0.0.1:1/cpk?connect_timeout=2")
	if err == nil || strings.Contains(err.Error(), "secret") || !strings.Contains(err.Error(), "CPK_DB") {
		t.Errorf("unreachable server: %v", err)
	}
	if !IsPostgres("postgresql://x") || IsPostgres("/tmp/x.db") {
		t.Error("IsPostgres")
	}
}

// One corrupt row is skipped with a warning that names it; the others are
// read.
func TestCorruptRowIsSkipped(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "r.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Now()
	for _, app := range []string{"a", "b"} {
		if err := s.Record(ctx, cpk.Run{App: app, Kind: cpk.KindLint, Started: now, Finished: now, Outcome: cpk.OutcomePassed, Figures: map[string]float64{"errors": 0}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.db.ExecContext(ctx, "UPDATE runs SET figures = '{not json' WHERE app = 'a'"); err != nil {
		t.Fatal(err)
	}
	var warned []string
	s.Warn = func(m string) { warned = append(warned, m) }
	runs, err := s.Runs(ctx, cpk.RunQuery{})
	if err != nil || len(runs) != 1 || runs[0].App != "b" {
		t.Fatalf("%v %+v", err, runs)
	}
	if len(warned) != 1 || !strings.Contains(warned[0], "figures are not JSON") {
		t.Errorf("warnings: %v", warned)
	}
}
