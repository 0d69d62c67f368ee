package store

import (
	"reflect"
	"testing"
)

func TestParseQuery(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		text string
		want []term
		fts  string
	}{
		{"", nil, ""},
		{"Dispatch", []term{{tok: "dispatch"}}, `("dispatch")`},
		{"worker-2 worker-2", []term{{tok: "worker"}, {tok: "2"}}, `("worker" "2")`},
		{"disp*", []term{{tok: "disp", prefix: true}}, `("disp"*)`},
		{"foo-bar*", []term{{tok: "foo"}, {tok: "bar", prefix: true}}, `("foo" "bar"*)`},
		{`" AND( NEAR(a b) x col:val ^y`, []term{{tok: "and"}, {tok: "near"}, {tok: "a"}, {tok: "b"}, {tok: "x"}, {tok: "col"}, {tok: "val"}, {tok: "y"}}, `("and" "near" "a" "b" "x" "col" "val" "y")`},
		{"Ça Über ŁÓDŹ naïve", []term{{tok: "ca"}, {tok: "uber"}, {tok: "łodz"}, {tok: "naive"}}, `("ca" "uber" "łodz" "naive")`},
		{"e\u0301te\u0301", []term{{tok: "ete"}}, `("ete")`},
		{"数据 日志", []term{{tok: "数据"}, {tok: "日志"}}, `("数据" "日志")`},
		// A leading '-' excludes the word, as a phrase of its tokens.
		{"shed -Load_Shed -x*", []term{{tok: "shed"}, {tok: "load shed", not: true}, {tok: "x", prefix: true, not: true}}, `("shed") NOT ("load" "shed") NOT ("x"*)`},
		{`a -"q" - -- -*`, []term{{tok: "a"}, {tok: "q", not: true}}, `("a") NOT ("q")`},
		{"*", nil, ""},
		{"\x00\x01", nil, ""},
	} {
		got := parseQuery(tc.text)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parseQuery(%q) = %+v, want %+v", tc.text, got, tc.want)
		}
		if !positive(got) {
			continue
		}
		if fts := ftsQuery(got); fts != tc.fts {
			t.Errorf("ftsQuery(%q) = %s, want %s", tc.text, fts, tc.fts)
		}
	}
}

func TestMatches(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		query  string
		fields []string
		want   bool
	}{
		{"queue", []string{"htm_queue"}, true},
		{"que", []string{"htm_queue"}, false},
		{"que*", []string{"htm_queue"}, true},
		{"cafe budget", []string{"Café", `["Budget exceeded"]`}, true},
		{"cafe budget", []string{"Café"}, false},
		{"queue -shed", []string{"htm_queue", "load_shed"}, false},
		{"queue -load_shed", []string{"htm_queue", "shed load"}, false},
		{"queue -load_shed", []string{"htm_queue", "load"}, true},
		{"queue -load_shed", []string{"htm_queue", "Load-Shed"}, false},
		{"queue -sh*", []string{"htm_queue", "shedding"}, false},
		{"-shed", []string{"x"}, true},
	} {
		if got := matches(parseQuery(tc.query), tc.fields...); got != tc.want {
			t.Errorf("matches(%q, %q) = %v, want %v", tc.query, tc.fields, got, tc.want)
		}
	}
}
