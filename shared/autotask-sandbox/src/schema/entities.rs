//! The entities the sandbox serves, as compact field specs (see
//! [`super::entity`]): names as on the wire, from
//! `../shared/reference/autotask-api.md` and the Swagger copy beside it.

use super::{EntityDef, child, entity};

/// Tickets, their notes and time entries.
pub(super) fn service_desk() -> Vec<EntityDef> {
    vec![
        {
            let mut e = entity(
                "Tickets",
                true,
                true,
                false,
                "id ticketNumber:ro title:req description status:req:pl priority:req:pl queueID:pl issueType:pl \
                 subIssueType:pl ticketCategory:pl ticketType:pl source:pl companyID:req:ref=Company companyLocationID \
                 contactID:ref=Contact contractID:ref=Contract contractServiceID contractServiceBundleID serviceLevelAgreementID:pl \
                 serviceLevelAgreementHasBeenMet:bool:ro serviceLevelAgreementPausedNextEventHours:ro assignedResourceID:ref=Resource \
                 assignedResourceRoleID:ref=Role billingCodeID:ref=BillingCode projectID opportunityID problemTicketId configurationItemID \
                 createDate:ro creatorResourceID:ro creatorType:ro:nq:int lastActivityDate:ro lastActivityResourceID:ro \
                 lastActivityPersonType:ro:nq:int lastCustomerVisibleActivityDateTime:ro lastTrackedModificationDateTime:ro dueDateTime \
                 firstResponseDateTime:ro firstResponseDueDateTime:ro firstResponseAssignedResourceID:ro firstResponseInitiatingResourceID:ro \
                 resolutionPlanDateTime:ro resolutionPlanDueDateTime:ro resolvedDateTime:ro resolvedDueDateTime:ro completedDate:ro \
                 completedByResourceID:ro resolution estimatedHours hoursToBeScheduled externalID:str purchaseOrderNumber rmmAlertID:str \
                 monitorID:int impersonatorCreatorResourceID:ro apiVendorID:ro:int userDefinedFields:nq",
            );
            e.supports_webhooks = true;
            e
        },
        child(
            entity(
                "TicketNotes",
                true,
                true,
                false,
                "id ticketID:req:ref=Ticket title description:req noteType:req:pl publish:req:pl createDateTime:ro \
                 lastActivityDate:ro creatorResourceID:ro createdByContactID:ro impersonatorCreatorResourceID:ro \
                 impersonatorUpdaterResourceID:ro",
            ),
            "Tickets",
            "Notes",
            "ticketID",
            true,
        ),
        entity(
            "TimeEntries",
            true,
            true,
            true,
            "id ticketID:ref=Ticket taskID resourceID:req:ref=Resource roleID:ref=Role billingCodeID:ref=BillingCode \
             internalBillingCodeID contractID:ref=Contract contractServiceID contractServiceBundleID dateWorked:req \
             startDateTime endDateTime hoursWorked:req hoursToBill offsetHours summaryNotes internalNotes isNonBillable \
             showOnInvoice:bool timeEntryType:pl billingApprovalDateTime:ro billingApprovalLevelMostRecent:ro:int \
             billingApprovalResourceID:ro createDateTime:ro creatorUserID:ro lastModifiedDateTime:ro lastModifiedUserID:ro \
             impersonatorCreatorResourceID:ro impersonatorUpdaterResourceID:ro",
        ),
    ]
}

/// Contracts and what hangs off them: blocks, block hour factors, ticket purchases, services.
pub(super) fn contracts() -> Vec<EntityDef> {
    vec![
        entity(
            "Contracts",
            true,
            true,
            false,
            "id contractName:req contractNumber contractType:req:pl contractCategory:pl contractPeriodType:pl status:req:pl \
             companyID:req:ref=Company contactID contactName billToCompanyID billToCompanyContactID isDefaultContract \
             startDate:req endDate:req serviceLevelAgreementID setupFee setupFeeBillingCodeID overageBillingRate estimatedCost \
             estimatedHours estimatedRevenue exclusionContractID contractExclusionSetID renewedContractID opportunityID \
             purchaseOrderNumber timeReportingRequiresStartAndStopTimes:int billingPreference:pl isCompliant description \
             lastModifiedDateTime:ro userDefinedFields:nq",
        ),
        child(
            entity(
                "ContractBlocks",
                true,
                true,
                false,
                "id contractID:req:ref=Contract datePurchased:req startDate:req endDate:req hours:req:dbl hoursApproved:ro:nq:dbl \
                 hourlyRate:req isPaid invoiceNumber paymentNumber paymentType:pl status:int",
            ),
            "Contracts",
            "Blocks",
            "contractID",
            true,
        ),
        child(
            entity(
                "ContractBlockHourFactors",
                true,
                true,
                false,
                "id contractID:req:ref=Contract roleID:req:ref=Role blockHourMultiplier:req",
            ),
            "Contracts",
            "BlockHourFactors",
            "contractID",
            true,
        ),
        child(
            entity(
                "ContractTicketPurchases",
                true,
                true,
                false,
                "id contractID:req:ref=Contract datePurchased:req startDate:req endDate:req ticketsPurchased:req:dbl \
                 ticketsUsed:ro:dbl perTicketRate:req isPaid invoiceNumber paymentNumber paymentType:pl status:int",
            ),
            "Contracts",
            "TicketPurchases",
            "contractID",
            true,
        ),
        child(
            entity(
                "ContractServices",
                true,
                true,
                false,
                "id contractID:req:ref=Contract serviceID:req unitPrice unitCost adjustedPrice invoiceDescription \
                 internalDescription quoteItemID",
            ),
            "Contracts",
            "Services",
            "contractID",
            true,
        ),
        entity(
            "Services",
            true,
            true,
            false,
            "id name:req description invoiceDescription isActive markupRate periodType:pl unitCost unitPrice billingCodeID \
             serviceLevelAgreementID vendorCompanyID createDate:ro creatorResourceID:ro lastModifiedDate:ro updateResourceID:ro",
        ),
    ]
}

/// Companies and contacts, resources and roles, billing codes.
pub(super) fn companies_and_people() -> Vec<EntityDef> {
    vec![
        entity(
            "Companies",
            true,
            true,
            false,
            "id companyName:req companyNumber companyType:req:pl classification:pl isActive ownerResourceID:req \
             parentCompanyID phone:req address1 address2 city state postalCode countryID createDate:ro lastActivityDate:ro \
             lastTrackedModifiedDateTime:ro webAddress userDefinedFields:nq",
        ),
        child(
            entity(
                "Contacts",
                true,
                true,
                true,
                "id companyID:req:ref=Company firstName:req lastName:req emailAddress emailAddress2 emailAddress3 \
                 isActive:req:int primaryContact:bool phone mobilePhone title createDate:ro lastActivityDate:ro lastModifiedDate:ro",
            ),
            "Companies",
            "Contacts",
            "companyID",
            true,
        ),
        entity(
            "Resources",
            false,
            true,
            false,
            "id firstName lastName email email2 email3 userName isActive resourceType:str userType:int licenseType:pl \
             defaultServiceDeskRoleID title locationID internalCost hireDate",
        ),
        entity(
            "Roles",
            true,
            true,
            false,
            "id name:req description hourlyRate:req hourlyFactor isActive isExcludedFromNewContracts isSystemRole:ro roleType:int",
        ),
        child(
            entity("ResourceRoles", false, false, false, "id resourceID roleID queueID:pl departmentID isActive"),
            "Resources",
            "Roles",
            "resourceID",
            true,
        ),
        entity(
            "BillingCodes",
            false,
            false,
            false,
            "id name description billingCodeType:int useType:int afterHoursWorkType:int department isActive \
             isExcludedFromNewContracts markupRate unitCost unitPrice taxCategoryID externalNumber generalLedgerAccount",
        ),
    ]
}

/// Ticket history, SLA results, surveys, and the ticket webhooks with their fields and excluded resources.
pub(super) fn history_and_webhooks() -> Vec<EntityDef> {
    vec![
        entity("TicketHistory", false, false, false, "id ticketID action date detail resourceID"),
        entity(
            "ServiceLevelAgreementResults",
            false,
            false,
            false,
            "id ticketID serviceLevelAgreementName firstResponseElapsedHours firstResponseResourceID \
             firstResponseInitiatingResourceID isFirstResponseMet resolutionPlanElapsedHours resolutionPlanResourceID \
             isResolutionPlanMet resolutionElapsedHours resolutionResourceID isResolutionMet",
        ),
        entity("Surveys", false, false, false, "id name displayName description"),
        entity(
            "SurveyResults",
            false,
            false,
            false,
            "id surveyID ticketID companyID contactID sendDate completeDate surveyRating:dbl companyRating:dbl \
             contactRating:dbl resourceRating:dbl",
        ),
        entity(
            "TicketWebhooks",
            true,
            true,
            true,
            "id name:req webhookUrl:req deactivationUrl:req secretKey:req notificationEmailAddress isActive:req isReady:ro \
             isSubscribedToCreateEvents isSubscribedToUpdateEvents isSubscribedToDeleteEvents \
             sendThresholdExceededNotification:bool ownerResourceID webhookGUID:ro:str",
        ),
        child(
            entity(
                "TicketWebhookFields",
                true,
                true,
                true,
                "id webhookID:ref=TicketWebhook fieldID:req:pl isDisplayAlwaysField:req isSubscribedField:req",
            ),
            "TicketWebhooks",
            "Fields",
            "webhookID",
            true,
        ),
        child(
            entity(
                "TicketWebhookExcludedResources",
                true,
                false,
                true,
                "id webhookID:ref=TicketWebhook resourceID:req:ref=Resource",
            ),
            "TicketWebhooks",
            "ExcludedResources",
            "webhookID",
            true,
        ),
    ]
}

/// Ticket children beside notes: checklist items and secondary resources
/// (`Tickets/{id}/ChecklistItems`, `Tickets/{id}/SecondaryResources`), and
/// the ticket categories (`TicketCategories`, also the `ticketCategory` picklist).
pub(super) fn ticket_children() -> Vec<EntityDef> {
    vec![
        child(
            entity(
                "TicketChecklistItems",
                true,
                true,
                true,
                "id ticketID:req:ref=Ticket itemName:req isCompleted:req completedByResourceID:ro completedDateTime:ro \
                 isImportant knowledgebaseArticleID position:int",
            ),
            "Tickets",
            "ChecklistItems",
            "ticketID",
            true,
        ),
        child(
            entity(
                "TicketSecondaryResources",
                true,
                false,
                true,
                "id ticketID:req:ref=Ticket resourceID:req:ref=Resource roleID:req:ref=Role",
            ),
            "Tickets",
            "SecondaryResources",
            "ticketID",
            true,
        ),
        entity(
            "TicketCategories",
            false,
            false,
            false,
            "id name nickname isActive isGlobalDefault isApiOnly displayColorRGB:int",
        ),
    ]
}

/// The MSP's own offices (`InternalLocations`): a resource's `locationID`
/// names one, and its `timeZone` is the calendar its people work in.
pub(super) fn locations() -> Vec<EntityDef> {
    vec![entity(
        "InternalLocations",
        false,
        false,
        false,
        "id name address1 address2 city state postalCode country isDefault holidaySetId:int timeZone:str",
    )]
}
