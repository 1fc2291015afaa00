"""Short descriptions of the common Claim Adjustment Reason Codes (CARC) and Remittance Advice
Remark Codes (RARC), so the report says what a code means beside the code.

Texts follow the public X12 code lists (x12.org/codes), shortened where the official text runs
long. Included: every CARC of the contract's category table, the routine contractual and
patient-responsibility ones, and the RARCs payers most often send with a denial. A code not
listed here is shown without a description.
"""

from __future__ import annotations

CARC: dict[str, str] = {
    "1": "Deductible amount",
    "2": "Coinsurance amount",
    "3": "Co-payment amount",
    "4": "The procedure code is inconsistent with the modifier used",
    "5": "The procedure code/type of bill is inconsistent with the place of service",
    "6": "The procedure/revenue code is inconsistent with the patient's age",
    "7": "The procedure/revenue code is inconsistent with the patient's gender",
    "8": "The procedure code is inconsistent with the provider type/specialty (taxonomy)",
    "9": "The diagnosis is inconsistent with the patient's age",
    "10": "The diagnosis is inconsistent with the patient's gender",
    "11": "The diagnosis is inconsistent with the procedure",
    "13": "The date of death precedes the date of service",
    "15": "The authorization number is missing, invalid, or does not apply to the billed "
    "services or provider",
    "16": "Claim/service lacks information or has submission/billing error(s)",
    "18": "Exact duplicate claim/service",
    "19": "Work-related injury/illness: the liability of the Workers' Compensation carrier",
    "20": "This injury/illness is covered by the liability carrier",
    "21": "This injury/illness is the liability of the no-fault carrier",
    "22": "This care may be covered by another payer per coordination of benefits",
    "23": "The impact of prior payer(s) adjudication including payments and/or adjustments",
    "24": "Charges are covered under a capitation agreement/managed care plan",
    "26": "Expenses incurred prior to coverage",
    "27": "Expenses incurred after coverage terminated",
    "29": "The time limit for filing has expired",
    "31": "Patient cannot be identified as our insured",
    "32": "Our records indicate the patient is not an eligible dependent",
    "33": "Insured has no dependent coverage",
    "35": "Lifetime benefit maximum has been reached",
    "39": "Services denied at the time authorization/pre-certification was requested",
    "40": "Charges do not meet qualifications for emergent/urgent care",
    "42": "Charges exceed our fee schedule or maximum allowable amount",
    "45": "Charge exceeds fee schedule/maximum allowable or contracted/legislated fee arrangement",
    "49": "Non-covered: a routine/preventive exam, or a diagnostic/screening procedure done "
    "with one",
    "50": "Non-covered: not deemed a 'medical necessity' by the payer",
    "55": "Procedure/treatment/drug is deemed experimental/investigational by the payer",
    "56": "Procedure/treatment has not been deemed 'proven to be effective' by the payer",
    "58": "Treatment was deemed by the payer to have been rendered in an inappropriate or "
    "invalid place of service",
    "59": "Processed based on multiple or concurrent procedure rules",
    "62": "Payment denied/reduced for absence of, or exceeded, pre-certification/authorization",
    "94": "Processed in excess of charges",
    "96": "Non-covered charge(s)",
    "97": "The benefit for this service is included in the payment/allowance for another "
    "service/procedure that has already been adjudicated",
    "109": "Claim/service not covered by this payer/contractor: send it to the correct payer",
    "119": "Benefit maximum for this time period or occurrence has been reached",
    "140": "Patient/insured health identification number and name do not match",
    "146": "Diagnosis was invalid for the date(s) of service reported",
    "149": "Lifetime benefit maximum has been reached for this service/benefit category",
    "151": "The payer deems the information submitted does not support this many/frequency "
    "of services",
    "163": "Attachment/other documentation referenced on the claim was not received",
    "164": "Attachment/other documentation referenced on the claim was not received in a "
    "timely fashion",
    "167": "This (these) diagnosis(es) is (are) not covered",
    "170": "Payment is denied when performed/billed by this type of provider",
    "177": "Patient has not met the required eligibility requirements",
    "181": "Procedure code was invalid on the date of service",
    "182": "Procedure modifier was invalid on the date of service",
    "185": "The rendering provider is not eligible to perform the service billed",
    "188": "This product/procedure is only covered when used according to FDA recommendations",
    "189": "'Not otherwise classified' or 'unlisted' procedure code billed when there is a "
    "specific code for this procedure/service",
    "197": "Precertification/notification/authorization/pre-treatment absent",
    "198": "Precertification/notification/authorization/pre-treatment exceeded",
    "200": "Expenses incurred during lapse in coverage",
    "204": "This service/equipment/drug is not covered under the patient's current benefit plan",
    "226": "Information requested from the billing/rendering provider was not provided, not "
    "provided timely, or was insufficient/incomplete",
    "227": "Information requested from the patient/insured/responsible party was not "
    "provided or was insufficient/incomplete",
    "236": "This procedure or procedure/modifier combination is not compatible with another "
    "procedure or procedure/modifier combination provided on the same day (NCCI)",
    "242": "Services not provided by network/primary care providers",
    "243": "Services not authorized by network/primary care providers",
    "252": "An attachment/other documentation is required to adjudicate this claim/service",
    "253": "Sequestration: reduction in federal payment",
    "A2": "Contractual adjustment",
    "B7": "This provider was not certified/eligible to be paid for this procedure/service on "
    "this date of service",
}

RARC: dict[str, str] = {
    "M15": "Separately billed services/tests have been bundled as components of the same "
    "procedure; separate payment is not allowed",
    "M51": "Missing/incomplete/invalid procedure code(s)",
    "M62": "Missing/incomplete/invalid treatment authorization code",
    "M76": "Missing/incomplete/invalid diagnosis or condition",
    "M77": "Missing/incomplete/invalid/inappropriate place of service",
    "M79": "Missing/incomplete/invalid charge",
    "M80": "Not covered when performed during the same session/date as a previously "
    "processed service for the patient",
    "M86": "Service denied because payment already made for same/similar procedure within "
    "set time frame",
    "M127": "Missing patient medical record for this service",
    "MA04": "Secondary payment cannot be considered without the identity of or payment "
    "information from the primary payer",
    "MA39": "Missing/incomplete/invalid gender",
    "MA130": "Your claim contains incomplete and/or invalid information; it is unprocessable "
    "(submit a new claim with the complete/correct information)",
    "N4": "Missing/incomplete/invalid prior insurance carrier(s) EOB",
    "N19": "Procedure code incidental to primary procedure",
    "N20": "Service not payable with other service rendered on the same date",
    "N29": "Missing documentation/orders/notes/summary/report/chart",
    "N30": "Patient ineligible for this service",
    "N54": "Claim information is inconsistent with pre-certified/authorized services",
    "N56": "Procedure code billed is not correct/valid for the services billed or the date "
    "of service billed",
    "N95": "This provider type/provider specialty may not bill this service",
    "N115": "This decision was based on a Local Coverage Determination (LCD)",
    "N130": "Consult plan benefit documents/guidelines for information about restrictions "
    "for this service",
    "N286": "Missing/incomplete/invalid referring provider primary identifier",
    "N290": "Missing/incomplete/invalid rendering provider primary identifier",
    "N329": "Missing/incomplete/invalid patient birth date",
    "N362": "The number of days or units of service exceeds our acceptable maximum",
    "N382": "Missing/incomplete/invalid patient identifier",
    "N386": "This decision was based on a National Coverage Determination (NCD)",
    "N425": "Statutorily excluded service(s)",
    "N479": "Missing Explanation of Benefits (coordination of benefits or Medicare "
    "Secondary Payer)",
    "N657": "This should be billed with the appropriate code for these services",
    "N706": "Missing documentation",
}


def carc_description(code: object) -> str:
    return CARC.get(str(code), "")


def rarc_description(code: object) -> str:
    return RARC.get(str(code), "")
