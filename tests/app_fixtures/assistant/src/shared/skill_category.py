from enum import Enum


class SkillCategory(str, Enum):  # noqa: UP042 - written as the application writes it
    CUSTOMER_SUPPORT = "顧客対応"
    LOGISTICS = "物流"
    APPRAISAL = "査定・修理"
    SALES = "販売"
    MANAGEMENT = "管理"
    STORE_OPERATION = "店舗"
