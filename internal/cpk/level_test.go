package cpk

import "testing"

func TestLevelIsCumulative(t *testing.T) {
	all := LevelEvidence{true, true, true, true, true, true, true, true}
	if all.Level() != MaxLevel || MaxLevel.String() != "docs current, upstream fresh" {
		t.Errorf("everything: %d", all.Level())
	}
	gap := all
	gap.Builds = false // tests passed, but no build of this content recorded
	if gap.Level() != 2 {
		t.Errorf("a gap at 3: level %d", gap.Level())
	}
	stale := all
	stale.UpstreamFresh = false
	if stale.Level() != 6 {
		t.Errorf("upstream stale: level %d", stale.Level())
	}
	if (LevelEvidence{}).Level() != 0 || Level(0).String() != "nothing yet" || Level(9).String() != "level(9)" || len(Levels()) != 8 {
		t.Error("level 0 and names")
	}
}
