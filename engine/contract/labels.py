"""What each field of the application is called, in Chinese and English: the one place for it.

A form that asks for a field (the self-check's next question, engine/partial), a summary that
names one, or a notice that shows the evidence reads the label here. Every path of
``engine.contract.application.FIELDS`` has one (tests/contract/test_labels.py); the wording of
the metered facts follows rules/metering.yaml.
"""

from __future__ import annotations

from engine.contract.decision import Text

FIELD_LABELS: dict[str, Text] = {
    "application_id": {"zh": "申请编号", "en": "application number"},
    "period.start": {"zh": "申报期开始日期", "en": "first day of the period"},
    "period.end": {"zh": "申报期结束日期", "en": "last day of the period"},
    "enterprise.credit_code": {"zh": "统一社会信用代码", "en": "unified social credit code"},
    "enterprise.name": {"zh": "企业名称", "en": "enterprise name"},
    "enterprise.region_code": {"zh": "所在地区行政区划代码", "en": "administrative division code of the region"},
    "enterprise.size": {"zh": "企业规模（中小企业或大型企业）", "en": "enterprise size (SME or large)"},
    "enterprise.is_ecommerce": {"zh": "是否为电商企业", "en": "is an e-commerce enterprise"},
    "storage.capacity_kwh": {"zh": "储能系统容量（kWh）", "en": "storage capacity (kWh)"},
    "storage.energy_density_wh_per_kg": {"zh": "储能设备能量密度（Wh/kg）", "en": "energy density (Wh/kg)"},
    "storage.cycle_life": {"zh": "循环寿命（次）", "en": "cycle life (cycles)"},
    "storage.backflow_response_ms": {"zh": "防逆流响应时间（ms）", "en": "anti-backflow response time (ms)"},
    "storage.discharged_kwh": {"zh": "申报期放电量（kWh）", "en": "energy discharged (kWh)"},
    "storage.baseline_peak_kw": {"zh": "无储能基准峰值负荷（kW）", "en": "baseline peak (kW)"},
    "storage.peak_with_storage_kw": {"zh": "储能运行后峰值负荷（kW）", "en": "peak with storage (kW)"},
    "storage.platform.connected": {
        "zh": "是否已接入省级能源监管平台",
        "en": "connected to the provincial energy regulatory platform",
    },
    "storage.platform.reporting_completeness": {"zh": "数据上报完整率", "en": "reporting completeness"},
    "storage.platform.max_upload_delay_min": {"zh": "最大上传延迟（分钟）", "en": "maximum upload delay (min)"},
    "storage.platform.carbon_reduction_reported": {
        "zh": "是否向平台上报碳减排量",
        "en": "carbon reduction reported to the platform",
    },
    "equipment.investment_yuan": {"zh": "智能仓储设备投资额（元）", "en": "equipment investment (yuan)"},
    "equipment.automated_return_receiving": {
        "zh": "是否集成自动化退货接收",
        "en": "integrates automated return receiving",
    },
    "equipment.realtime_data_analytics": {"zh": "是否集成实时数据分析", "en": "integrates real-time data analytics"},
    "packaging.order_count": {"zh": "申报期订单量", "en": "orders shipped in the period"},
    "packaging.order_value_yuan": {"zh": "申报期订单金额（元）", "en": "order value in the period (yuan)"},
    "packaging.nondegradable_share": {"zh": "不可降解包装占比", "en": "share of non-degradable packaging"},
    "packaging.has_recycling_system": {"zh": "是否已建立包装回收体系", "en": "has a packaging recycling system"},
    "packaging.recycling_rate": {"zh": "包装回收率", "en": "packaging recycling rate"},
    "packaging.filler_reduction_rate": {"zh": "填充物减少率", "en": "filler reduction rate"},
    "energy.renewable_kwh": {"zh": "申报期可再生能源用电量（kWh）", "en": "renewable energy used (kWh)"},
    "history.storage_subsidy_granted_this_year_yuan": {
        "zh": "本年度已获储能补贴（元）",
        "en": "storage subsidy already granted this year (yuan)",
    },
    "history.freight_subsidy_granted_this_year_yuan": {
        "zh": "本年度已获运费补贴（元）",
        "en": "freight subsidy already granted this year (yuan)",
    },
    "history.equipment_subsidy_received": {
        "zh": "是否已领取过一次性设备补贴",
        "en": "has already received the one-time equipment subsidy",
    },
}
