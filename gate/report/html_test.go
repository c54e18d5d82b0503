package report

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// browser is a headless Chromium, or the test fails saying how to get one.
func browser(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("PERFGATE_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("needs a headless Chromium: apt-get install chromium (.ci/run installs it), or set PERFGATE_CHROMIUM")
	return ""
}

// trap is a loopback listener that counts every connection made to it: the browser's
// proxy, so that any request the page tries, to any address, arrives here.
func trap(t *testing.T) (addr string, hits *requests) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	hits = &requests{}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
				line, _ := bufio.NewReader(c).ReadString('\n')
				hits.add(strings.TrimSpace(line))
			}()
		}
	}()
	return ln.Addr().String(), hits
}

// pageRequests leaves out of a trap's requests those Chromium makes of itself whatever
// the page (its updater and its account service, at Google's hosts, which flags do not
// all turn off), so that what is left is what a page asked for.
func pageRequests(lines []string) []string {
	var out []string
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) < 2 {
			out = append(out, l)
			continue
		}
		host := f[1]
		if u, err := url.Parse(f[1]); err == nil && u.Host != "" {
			host = u.Host
		}
		host, _, _ = strings.Cut(host, ":")
		if !strings.HasSuffix(host, ".google.com") && !strings.HasSuffix(host, ".googleapis.com") && !strings.HasSuffix(host, ".gvt1.com") {
			out = append(out, l)
		}
	}
	return out
}

// The trap sees what a page asks for: a page that loads an image from elsewhere (here the trap itself, on loopback)
// (and has no policy against it) is caught.
func TestBrowserTrapCatchesAPageRequest(t *testing.T) {
	bin := browser(t)
	proxy, hits := trap(t)
	page := filepath.Join(t.TempDir(), "leaky.html")
	doc := fmt.Sprintf(`<!DOCTYPE html><html><body><img src="http://%s/pixel.png"><p>leaky</p></body></html>`, proxy)
	if err := os.WriteFile(page, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	chromium(t, bin, proxy, page, "--dump-dom")
	got := pageRequests(hits.all())
	if len(got) == 0 || !strings.Contains(strings.Join(got, " "), "/pixel.png") {
		t.Errorf("the page's request was not seen: %q (all: %q)", got, hits.all())
	}
}

// requests are the first lines of the requests a trap received.
type requests struct {
	mu    sync.Mutex
	lines []string
}

func (r *requests) add(line string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, line)
}

func (r *requests) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.lines...)
}

// chromium runs the browser headless on a page, with every request sent to proxy, and
// returns what it printed (the page's console included).
func chromium(t *testing.T, bin, proxy, page string, args ...string) (stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	all := append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check",
		"--user-data-dir=" + t.TempDir(), "--proxy-server=http://" + proxy, "--proxy-bypass-list=<-loopback>",
		// Chromium's own traffic (updates, safe browsing, metrics) off: only the page's is left.
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-default-apps",
		"--disable-client-side-phishing-detection", "--disable-domain-reliability", "--no-pings", "--metrics-recording-only",
		"--enable-logging=stderr", "--v=0", "--hide-scrollbars", "--virtual-time-budget=3000",
	}, args...)
	all = append(all, "file://"+page)
	cmd := exec.CommandContext(ctx, bin, all...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, errb.String())
	}
	return out.String(), errb.String()
}

// consoleLine is how Chromium logs a page's console message or script error.
var consoleLine = regexp.MustCompile(`(?m)^.*(CONSOLE|Uncaught|Refused to).*$`)

// The HTML report, opened in a real browser with the network taken away: it asks for
// nothing, logs no error, runs its script, and draws its charts, for a run of four phases
// and 200 endpoints, one of them named to break out of the page.
func TestHTMLReportInABrowser(t *testing.T) {
	bin := browser(t)
	proxy, hits := trap(t)
	r := wideFixture(t) // one endpoint named to break out of the page (wideHostile)
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	var b bytes.Buffer
	if err := WriteHTML(&b, r, []Reference{ReferenceOf("last-release.json", r)}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(page, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	dom, log := chromium(t, bin, proxy, page, "--dump-dom")
	if m := consoleLine.FindAllString(log, -1); len(m) > 0 {
		t.Errorf("the page logged errors:\n%s", strings.Join(m, "\n"))
	}
	if !regexp.MustCompile(`<body[^>]*data-ready="1"`).MatchString(dom) {
		t.Error("the page's script did not run to its end")
	}
	charts := strings.Count(dom, `<svg xmlns="http://www.w3.org/2000/svg" class="chart"`)
	lines := len(regexp.MustCompile(`<path class="line s\d" d="M`).FindAllString(dom, -1))
	table := dom[strings.Index(dom, `id="endpoints"`):]
	table = table[:strings.Index(table, "</table>")]
	if rows := strings.Count(table, "<tr>") - 1; rows != 200 { // less the heading's
		t.Errorf("the endpoints table has %d rows, want 200", rows)
	}
	if charts < 6+200 { // the run's charts and one sparkline an endpoint
		t.Errorf("%d charts drawn, want at least 206", charts)
	}
	if lines < 206 {
		t.Errorf("%d lines drawn, want at least 206", lines)
	}
	if strings.Contains(dom, "<img") || strings.Contains(dom, "<script>console") {
		t.Error("the hostile endpoint name became an element")
	}
	if !strings.Contains(dom, "onerror=") || !strings.Contains(dom, "&lt;script&gt;") {
		t.Error("the hostile name is not shown, escaped, as text")
	}

	shot := filepath.Join(dir, "report.png")
	height := "2200"
	if h := os.Getenv("PERFGATE_SCREENSHOT_HEIGHT"); h != "" { // to look at more of it
		height = h
	}
	_, log = chromium(t, bin, proxy, page, "--window-size=1280,"+height, "--screenshot="+shot)
	if m := consoleLine.FindAllString(log, -1); len(m) > 0 {
		t.Errorf("the page logged errors:\n%s", strings.Join(m, "\n"))
	}
	if got := pageRequests(hits.all()); len(got) > 0 {
		t.Errorf("the page tried %d requests: %q", len(got), got)
	}
	img := readPNG(t, shot)
	inked, colours := ink(img)
	if inked < 0.05 || colours < 8 {
		t.Errorf("the screenshot looks blank: %.1f%% of it drawn, %d colours", 100*inked, colours)
	}
	// The verdict's banner, across the top, is the colour of a failed run.
	if c := img.At(img.Bounds().Dx()/2, 8); !reddish(c) {
		t.Errorf("the banner of a failed run is %v, not red", c)
	}
	if dir := os.Getenv("PERFGATE_SCREENSHOTS"); dir != "" { // to look at it
		_ = os.WriteFile(filepath.Join(dir, "report.png"), mustRead(t, shot), 0o644)
		_ = os.WriteFile(filepath.Join(dir, "report.html"), b.Bytes(), 0o644)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readPNG(t *testing.T, path string) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(mustRead(t, path)))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	return img
}

// ink is the share of an image that is not white, and how many colours it has (to 4
// bits a channel).
func ink(img image.Image) (float64, int) {
	b := img.Bounds()
	seen := map[uint32]bool{}
	var drawn, all int
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			all++
			if r < 0xf000 || g < 0xf000 || bl < 0xf000 {
				drawn++
			}
			seen[r>>12<<8|g>>12<<4|bl>>12] = true
		}
	}
	return float64(drawn) / float64(all), len(seen)
}

func reddish(c interface{ RGBA() (r, g, b, a uint32) }) bool {
	r, g, b, _ := c.RGBA()
	return r > 0x9000 && g < 0x6000 && b < 0x6000
}
