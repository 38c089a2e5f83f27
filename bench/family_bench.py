#!/usr/bin/env python3
"""Creating records of one family over the API: records/s and latency.

Every record is the same child (the worst case of "one family, many children": each new record
resembles every record before it). Signs in, makes an API token, then sends POST
/api/v1/records from THREADS threads on keep-alive connections, and prints records/s and the
p50/p99 latency. With --jobs-admin USER it also waits until the server's job queue has run the
matching those records asked for and prints the rate end to end.

  python3 bench/family_bench.py --url http://127.0.0.1:8089 --user c.cw --password PW --records 2000
"""
import argparse, http.client, json, statistics, threading, time, urllib.parse

BODY = json.dumps({
    "names": [{"given": "Дмитрий", "patronymic": "Андреевич", "family": "Олейник"}],
    "sex": "m", "birth_date": "07.03.2015", "birth_place": "Мариуполь",
    "current_location": "Детский дом № 4",
}).encode()


def conn(url):
    u = urllib.parse.urlparse(url)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=60)


def token(url, user, password):
    c = conn(url)
    c.request("POST", "/api/v1/auth/login", json.dumps({"username": user, "password": password}),
              {"Content-Type": "application/json"})
    r = c.getresponse()
    body = json.loads(r.read())
    assert r.status == 200, body
    cookie = r.getheader("Set-Cookie").split(";")[0]
    c.request("POST", "/api/v1/me/tokens", json.dumps({"name": "bench"}),
              {"Content-Type": "application/json", "Cookie": cookie, "X-CSRF-Token": body["csrf_token"]})
    r = c.getresponse()
    t = json.loads(r.read())
    assert r.status == 201, t
    return t["token"]


def worker(url, tok, n, lat, errors):
    c = conn(url)
    h = {"Content-Type": "application/json", "Authorization": f"Bearer {tok}"}
    for _ in range(n):
        t0 = time.perf_counter()
        c.request("POST", "/api/v1/records", BODY, h)
        r = c.getresponse()
        r.read()
        lat.append(time.perf_counter() - t0)
        if r.status != 201:
            errors.append(r.status)


def queue_empty(url, tok):
    c = conn(url)
    c.request("GET", "/api/v1/admin/jobs?limit=1", headers={"Authorization": f"Bearer {tok}"})
    r = c.getresponse()
    j = json.loads(r.read())
    return j["queued"] + j["running"] == 0


def main():
    a = argparse.ArgumentParser()
    a.add_argument("--url", required=True)
    a.add_argument("--user", required=True)
    a.add_argument("--password", required=True)
    a.add_argument("--records", type=int, default=2000)
    a.add_argument("--threads", type=int, default=8)
    a.add_argument("--jobs-admin", help="a mediator admin, to wait for the job queue to drain")
    args = a.parse_args()
    tok = token(args.url, args.user, args.password)
    admin = token(args.url, args.jobs_admin, args.password) if args.jobs_admin else None
    lat, errors = [], []
    per = args.records // args.threads
    threads = [threading.Thread(target=worker, args=(args.url, tok, per, lat, errors))
               for _ in range(args.threads)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.perf_counter() - t0
    n = per * args.threads
    q = statistics.quantiles(lat, n=100)
    print(f"created {n} records of one family in {took:.2f} s: {n / took:.0f} records/s, "
          f"p50 {q[49] * 1000:.1f} ms, p99 {q[98] * 1000:.1f} ms, errors {len(errors)}")
    if admin:
        while not queue_empty(args.url, admin):
            time.sleep(0.05)
        took = time.perf_counter() - t0
        print(f"matching done too after {took:.2f} s: {n / took:.0f} records/s end to end")


if __name__ == "__main__":
    main()
