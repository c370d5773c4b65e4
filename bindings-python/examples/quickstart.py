import promlite

with promlite.open("metrics.db") as db:
    db.append('http_requests_total{job="api"}', 1700000000, 10)  # Unix seconds or datetime
    db.append_many('http_requests_total{job="web"}', [1700000000, 1700000060], [5, 65])
    db.append('http_requests_total{job="api"}', 1700000060, 70)
    result = db.query("sum(http_requests_total)", time=1700000060)
    print(result["result"][0]["value"])  # [1700000060.0, 135.0]
    print(db.label_values("job"))  # ['api', 'web']
