"""Small telemetry series built in tests, so every derived fact can be computed by hand."""
import datetime as dt

HEADER = "system_id,interval_start,grid_import_kw,storage_discharge_kw,storage_charge_kw,received_at"


def day(date="2026-03-01", base=("500", "0", "0"), special=None, skip=(), delay_s=300, late=None, system="S1"):
    """96 fifteen-minute rows of one day: ``base`` (import, discharge, charge) everywhere except
    ``special`` {"HH:MM": (import, discharge, charge)}; ``skip`` lists "HH:MM" never received;
    each row arrives ``delay_s`` after its interval ended, or ``late[HH:MM]`` seconds."""
    special, late = special or {}, late or {}
    start = dt.datetime.fromisoformat(date + "T00:00")
    rows = []
    for k in range(96):
        t = start + dt.timedelta(minutes=15 * k)
        hm = t.strftime("%H:%M")
        if hm in skip:
            continue
        imp, dis, chg = special.get(hm, base)
        received = t + dt.timedelta(minutes=15, seconds=late.get(hm, delay_s))
        rows.append(f"{system},{t.isoformat(timespec='minutes')},{imp},{dis},{chg},{received.isoformat()}")
    return rows


def csv_text(*row_lists):
    return "\n".join([HEADER, *[r for rows in row_lists for r in rows]]) + "\n"
