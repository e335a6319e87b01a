package engine

import (
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"testing"
)

// TestCounterCountsEveryVerb: Counter embeds the Engine it counts, so a
// verb it does not define itself still works but goes uncounted (Top did):
// every method of Engine that takes a context must be Counter's own.
func TestCounterCountsEveryVerb(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "count.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	own := map[string]bool{}
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Recv == nil || len(fd.Recv.List) != 1 {
			continue
		}
		if star, ok := fd.Recv.List[0].Type.(*ast.StarExpr); ok {
			if id, ok := star.X.(*ast.Ident); ok && id.Name == "Counter" {
				own[fd.Name.Name] = true
			}
		}
	}
	ctxType := reflect.TypeOf((*interface{ Done() <-chan struct{} })(nil)).Elem()
	it := reflect.TypeOf((*Engine)(nil)).Elem()
	for i := range it.NumMethod() {
		m := it.Method(i)
		if m.Type.NumIn() > 0 && m.Type.In(0).Implements(ctxType) && !own[m.Name] {
			t.Errorf("Counter does not count %s: define it in count.go", m.Name)
		}
	}
}
