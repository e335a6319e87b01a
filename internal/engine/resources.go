package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
)

// SortForRemoval orders resources as they can be removed: containers
// first, then the networks and volumes they use; each kind by name.
func SortForRemoval(list []Resource) {
	rank := map[string]int{KindContainer: 0, KindNetwork: 1, KindVolume: 2}
	slices.SortFunc(list, func(a, b Resource) int {
		return cmp.Or(cmp.Compare(rank[a.Kind], rank[b.Kind]), cmp.Compare(a.Name, b.Name))
	})
}

// RemoveResources removes list in the order SortForRemoval gives. It
// returns what it removed, and an error naming each resource it could
// not.
func RemoveResources(ctx context.Context, e Engine, list []Resource) ([]Resource, error) {
	SortForRemoval(list)
	var removed []Resource
	var errs []error
	for _, r := range list {
		var err error
		switch r.Kind {
		case KindContainer:
			err = e.Remove(ctx, r.Name)
		case KindNetwork:
			err = e.RemoveNetwork(ctx, r.Name)
		case KindVolume:
			err = e.RemoveVolume(ctx, r.Name)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("remove %s %s: %w", r.Kind, r.Name, err))
			continue
		}
		removed = append(removed, r)
	}
	return removed, errors.Join(errs...)
}
