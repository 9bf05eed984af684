//! The one list of transforms and predicates: Kafka's class names, their
//! settings and how each is built.

use connect_api::config::Config;
use connect_api::ConfigDef;

use crate::util::Side;
use crate::{
    cast, extract_field, flatten, flume, header_from, headers, hoist_field, insert_field,
    mask_field, predicates as preds, replace_field, routers, set_schema_metadata,
    timestamp_converter, value_to_key, Predicate, Transformation,
};

/// A transform as `/connector-plugins` and the chain see it.
#[derive(Clone, Copy)]
pub struct TransformPlugin {
    /// Kafka's class name, e.g. `org.apache.kafka.connect.transforms.InsertField$Value`.
    pub class: &'static str,
    pub config_def: fn() -> ConfigDef,
    pub build: fn(&Config) -> Result<Box<dyn Transformation>, String>,
}

/// A predicate as `/connector-plugins` and the chain see it.
#[derive(Clone, Copy)]
pub struct PredicatePlugin {
    pub class: &'static str,
    pub config_def: fn() -> ConfigDef,
    pub build: fn(&Config) -> Result<Box<dyn Predicate>, String>,
}

macro_rules! boxed {
    ($e:expr) => {
        $e.map(|t| Box::new(t) as Box<dyn Transformation>)
    };
}

/// Every transform, in class-name order (Flume's interceptors first).
pub fn transforms() -> &'static [TransformPlugin] {
    const T: &[TransformPlugin] = &[
        TransformPlugin {
            class: flume::SELECTOR,
            config_def: flume::selector_def,
            build: |c| boxed!(flume::ChannelSelector::new(c)),
        },
        TransformPlugin {
            class: "org.apache.flume.interceptor.HostInterceptor$Builder",
            config_def: flume::host_def,
            build: |c| boxed!(flume::SetHeader::host(c)),
        },
        TransformPlugin {
            class: "org.apache.flume.interceptor.RegexExtractorInterceptor$Builder",
            config_def: flume::regex_extractor_def,
            build: |c| boxed!(flume::RegexExtractor::new(c)),
        },
        TransformPlugin {
            class: "org.apache.flume.interceptor.RegexFilteringInterceptor$Builder",
            config_def: flume::regex_filter_def,
            build: |c| boxed!(flume::RegexFilter::new(c)),
        },
        TransformPlugin {
            class: "org.apache.flume.interceptor.RemoveHeaderInterceptor$Builder",
            config_def: flume::remove_def,
            build: |c| boxed!(flume::RemoveHeader::new(c)),
        },
        TransformPlugin {
            class: "org.apache.flume.interceptor.SearchAndReplaceInterceptor$Builder",
            config_def: flume::search_replace_def,
            build: |c| boxed!(flume::SearchReplace::new(c)),
        },
        TransformPlugin {
            class: "org.apache.flume.interceptor.StaticInterceptor$Builder",
            config_def: flume::static_def,
            build: |c| boxed!(flume::SetHeader::fixed(c)),
        },
        TransformPlugin {
            class: "org.apache.flume.interceptor.TimestampInterceptor$Builder",
            config_def: flume::timestamp_def,
            build: |c| boxed!(flume::SetHeader::timestamp(c)),
        },
        TransformPlugin {
            class: "org.apache.flume.sink.solr.morphline.UUIDInterceptor$Builder",
            config_def: flume::uuid_def,
            build: |c| boxed!(flume::SetHeader::uuid(c)),
        },
        TransformPlugin {
            class: "org.apache.kafka.connect.transforms.Cast$Key",
            config_def: cast::def,
            build: |c| boxed!(cast::Cast::new(c, Side::Key)),
        },
        TransformPlugin {
            class: "org.apache.kafka.connect.transforms.Cast$Value",
            config_def: cast::def,
            build: |c| boxed!(cast::Cast::new(c, Side::Value)),
        },
        TransformPlugin {
            class: "org.apache.kafka.connect.transforms.DropHeaders",
            config_def: headers::drop_def,
            build: |c| boxed!(headers::DropHeaders::new(c)),
        },
        TransformPlugin {
            class: "org.apache.kafka.connect.transforms.ExtractField$Key",
            config_def: extract_field::def,
            build: |c| boxed!(extract_field::ExtractField::new(c, Side::Key)),
        },
        TransformPlugin {
            class: "org.apache.kafka.connect.transforms.ExtractField$Value",
            config_def: extract_field::def,
            build: |c| boxed!(extract_field::ExtractField::new(c, Side::Value)),
        },
        TransformPlugin {
            class: "org.apache.kafka.connect.transforms.Filter",
            config_def: ConfigDef::new,
            build: |_| Ok(Box::new(preds::Filter)),
        },
        TransformPlugin {
            class: "org.apache.kafka.connect.transforms.Flatten$Key",
            config_def: flatten::def,
            build: |c| boxed!(flatten::Flatten::new(c, Side::Key)),
        },
        TransformPlugin {
            class: "org.apache.kafka.connect.transforms.Flatten$Value",
            config_def: flatten::def,
            build: |c| boxed!(flatten::Flatten::new(c, Side::Value)),
        },
        TransformPlugin {
            class: "org.apache.kafka.connect.transforms.HeaderFrom$Key",
            config_def: header_from::def,
            build: |c| boxed!(header_from::HeaderFrom::new(c, Side::Key)),
        },
        TransformPlugin {
            class: "org.apache.kafka.connect.transforms.HeaderFrom$Value",
            config_def: header_from::def,
            build: |c| boxed!(header_from::HeaderFrom::new(c, Side::Value)),
        },
        TransformPlugin {
            class: "org.apache.kafka.connect.transforms.HoistField$Key",
            config_def: hoist_field::def,
            build: |c| boxed!(hoist_field::HoistField::new(c, Side::Key)),
        },
        TransformPlugin {
            class: "org.apache.kafka.connect.transforms.HoistField$Value",
            config_def: hoist_field::def,
            build: |c| boxed!(hoist_field::HoistField::new(c, Side::Value)),
        },
        TransformPlugin {
            class: "org.apache.kafka.connect.transforms.InsertField$Key",
            config_def: insert_field::def,
            build: |c| boxed!(insert_field::InsertField::new(c, Side::Key)),
        },
        TransformPlugin {
            class: "org.apache.kafka.connect.transforms.InsertField$Value",
            config_def: insert_field::def,
            build: |c| boxed!(insert_field::InsertField::new(c, Side::Value)),
        },
        TransformPlugin {
            class: "org.apache.kafka.connect.transforms.InsertHeader",
            config_def: headers::insert_def,
            build: |c| boxed!(headers::InsertHeader::new(c)),
        },
        TransformPlugin {
            class: "org.apache.kafka.connect.transforms.MaskField$Key",
            config_def: mask_field::def,
            build: |c| boxed!(mask_field::MaskField::new(c, Side::Key)),
        },
        TransformPlugin {
            class: "org.apache.kafka.connect.transforms.MaskField$Value",
            config_def: mask_field::def,
            build: |c| boxed!(mask_field::MaskField::new(c, Side::Value)),
        },
        TransformPlugin {
            class: "org.apache.kafka.connect.transforms.RegexRouter",
            config_def: routers::regex_def,
            build: |c| boxed!(routers::RegexRouter::new(c)),
        },
        TransformPlugin {
            class: "org.apache.kafka.connect.transforms.ReplaceField$Key",
            config_def: replace_field::def,
            build: |c| boxed!(replace_field::ReplaceField::new(c, Side::Key)),
        },
        TransformPlugin {
            class: "org.apache.kafka.connect.transforms.ReplaceField$Value",
            config_def: replace_field::def,
            build: |c| boxed!(replace_field::ReplaceField::new(c, Side::Value)),
        },
        TransformPlugin {
            class: "org.apache.kafka.connect.transforms.SetSchemaMetadata$Key",
            config_def: set_schema_metadata::def,
            build: |c| boxed!(set_schema_metadata::SetSchemaMetadata::new(c, Side::Key)),
        },
        TransformPlugin {
            class: "org.apache.kafka.connect.transforms.SetSchemaMetadata$Value",
            config_def: set_schema_metadata::def,
            build: |c| boxed!(set_schema_metadata::SetSchemaMetadata::new(c, Side::Value)),
        },
        TransformPlugin {
            class: "org.apache.kafka.connect.transforms.TimestampConverter$Key",
            config_def: timestamp_converter::def,
            build: |c| boxed!(timestamp_converter::TimestampConverter::new(c, Side::Key)),
        },
        TransformPlugin {
            class: "org.apache.kafka.connect.transforms.TimestampConverter$Value",
            config_def: timestamp_converter::def,
            build: |c| boxed!(timestamp_converter::TimestampConverter::new(c, Side::Value)),
        },
        TransformPlugin {
            class: "org.apache.kafka.connect.transforms.TimestampRouter",
            config_def: routers::timestamp_def,
            build: |c| boxed!(routers::TimestampRouter::new(c)),
        },
        TransformPlugin {
            class: "org.apache.kafka.connect.transforms.ValueToKey",
            config_def: value_to_key::def,
            build: |c| boxed!(value_to_key::ValueToKey::new(c)),
        },
    ];
    T
}

/// Every predicate.
pub fn predicates() -> &'static [PredicatePlugin] {
    const P: &[PredicatePlugin] = &[
        PredicatePlugin {
            class: "org.apache.kafka.connect.transforms.predicates.HasHeaderKey",
            config_def: preds::has_header_def,
            build: |c| preds::HasHeaderKey::new(c).map(|p| Box::new(p) as Box<dyn Predicate>),
        },
        PredicatePlugin {
            class: "org.apache.kafka.connect.transforms.predicates.RecordIsTombstone",
            config_def: ConfigDef::new,
            build: |_| Ok(Box::new(preds::RecordIsTombstone)),
        },
        PredicatePlugin {
            class: "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
            config_def: preds::topic_matches_def,
            build: |c| preds::TopicNameMatches::new(c).map(|p| Box::new(p) as Box<dyn Predicate>),
        },
    ];
    P
}

/// True when `name` selects `class`: the class name itself, the name without
/// its package (`InsertField$Value`), or with `.` for `$`
/// (`InsertField.Value`, as some tools write nested classes).
fn answers_to(class: &str, name: &str) -> bool {
    let name = name.trim();
    if class == name {
        return true;
    }
    let simple = class.rsplit('.').next().unwrap_or(class);
    simple == name || simple.replace('$', ".") == name || class.replace('$', ".") == name
}

/// The transform `name` selects.
pub fn find_transform(name: &str) -> Option<TransformPlugin> {
    transforms()
        .iter()
        .find(|t| answers_to(t.class, name))
        .copied()
}

/// The predicate `name` selects.
pub fn find_predicate(name: &str) -> Option<PredicatePlugin> {
    predicates()
        .iter()
        .find(|p| answers_to(p.class, name))
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_select_plugins() {
        assert!(find_transform("org.apache.kafka.connect.transforms.InsertField$Value").is_some());
        assert!(find_transform("InsertField$Key").is_some());
        assert!(find_transform("RegexRouter").is_some());
        assert!(
            find_transform("InsertField").is_none(),
            "a $Key/$Value is needed"
        );
        assert!(find_predicate("TopicNameMatches").is_some());
        assert!(
            find_predicate("org.apache.kafka.connect.transforms.predicates.RecordIsTombstone")
                .is_some()
        );
        assert_eq!(transforms().len(), 35);
    }
}
